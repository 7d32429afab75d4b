#!/usr/bin/env bash
# Installs what streambench needs on a fresh Debian machine: system packages when missing, then
# the npm dependencies pinned by package-lock.json. Safe to run again; it only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages, by the command that tells whether each is there.
#   ffmpeg: the encoders and the psnr filter; time (GNU time) and sysstat (pidstat): test references.
#   xserver-xspice, xvfb, virt-viewer, gstreamer plug-ins: the real SPICE stack of the spice workload.
#   What each codec needs (checked by one plug-in file of each package):
#     server (spice-server's GStreamer encoders): avenc_mjpeg (libav), vp8enc/vp9enc (good, libgstvpx),
#       x264enc (ugly: without it the server silently falls back to spice:mjpeg);
#     client (spice-gtk, through decodebin): vp8dec/vp9dec (good, libgstvpx), avdec_h264 (libav) and
#       h264parse (bad, libgstvideoparsersbad: without it the client logs "Missing decoder: H.264" and
#       drops the stream); MJPEG needs no element (spice-gtk decodes it itself), jpegdec is in good.
#   x11vnc, tigervnc-standalone-server (Xtigervnc), tigervnc-viewer: the vnc workload's servers and viewer,
#     tigervnc-tools (tigervncpasswd): the point's VNC password file;
#   xrdp, xorgxrdp (the session's X server modules), freerdp2-x11 (xfreerdp): the rdp workload.
#   chromium: the browser the GUI's tests and benchmarks drive through playwright-core (no browser
#     build can be downloaded here; Debian's is the one).
declare -A NEED=([ffmpeg]=ffmpeg [chromium]=chromium [/usr/bin/time]=time [pidstat]=sysstat [iperf3]=iperf3
  [/usr/lib/xorg/modules/drivers/spiceqxl_drv.so]=xserver-xspice [Xvfb]=xvfb [remote-viewer]=virt-viewer
  [/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstvpx.so]=gstreamer1.0-plugins-good
  [/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstx264.so]=gstreamer1.0-plugins-ugly
  [/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstlibav.so]=gstreamer1.0-libav
  [/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstvideoparsersbad.so]=gstreamer1.0-plugins-bad
  [/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstvideoconvertscale.so]=gstreamer1.0-plugins-base
  [/usr/bin/x11vnc]=x11vnc [/usr/bin/Xtigervnc]=tigervnc-standalone-server [/usr/bin/xtigervncviewer]=tigervnc-viewer [/usr/bin/tigervncpasswd]=tigervnc-tools
  [/usr/sbin/xrdp]=xrdp [/usr/lib/xorg/modules/drivers/xrdpdev_drv.so]=xorgxrdp [/usr/bin/xfreerdp]=freerdp2-x11)
# Slurm (the daemons, the client commands, munge): test/slurm.test.ts runs the Slurm executor
#   against a real cluster of several nodes on this machine (scripts/slurm-dev.sh), so ./test.sh needs
#   them on a fresh machine. `run --executor slurm` itself needs only the client commands of the
#   cluster it submits to, which its machine has anyway. STREAMBENCH_NO_SLURM=1 leaves them out
#   (and skips those tests, saying so).
if [ "${STREAMBENCH_NO_SLURM:-}" != 1 ]; then
  NEED+=([/usr/sbin/slurmctld]=slurmctld [/usr/sbin/slurmd]=slurmd [/usr/bin/sbatch]=slurm-client [/usr/sbin/munged]=munge)
fi
missing=()
for cmd in "${!NEED[@]}"; do
  if [[ "$cmd" == /* ]]; then [ -e "$cmd" ] || missing+=("${NEED[$cmd]}")
  else command -v "$cmd" >/dev/null 2>&1 || missing+=("${NEED[$cmd]}"); fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q >/dev/null
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  # Debian's xrdp package enables and starts a system-wide RDP server on port 3389 of every
  # address where systemd runs: the rdp workload starts its own on loopback (or the guest's
  # address) with its own configuration, and leaves no door open behind it.
  if [[ " ${missing[*]} " == *" xrdp "* ]] && [ -d /run/systemd/system ]; then
    echo "setup: disabling the system's xrdp service (the rdp workload runs its own)"
    $SUDO systemctl disable --now xrdp xrdp-sesman >/dev/null 2>&1 || echo "setup: could not disable the xrdp service: it may listen on port 3389 (systemctl disable --now xrdp xrdp-sesman)" >&2
  fi
fi

# The rdp workload's xrdp and session X servers meet in /run/xrdp/sockdir, which the xrdp package's
# service makes at boot; without systemd (a container) nothing does. Made here when missing, as the
# package makes it (mode 3777: anyone may create a socket, only its owner removes it); the workload
# makes it too when it is missing at a point's start (/run is emptied at each boot).
if [ -x /usr/sbin/xrdp ] && [ ! -d /run/xrdp/sockdir ]; then
  echo "setup: creating /run/xrdp/sockdir (the rdp workload's sockets)"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO install -d -m 3777 /run/xrdp/sockdir
fi

# npm ci only when node_modules was not installed from this exact lockfile.
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.streambench-lock 2>/dev/null)" != "$want" ]; then
  echo "setup: installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > node_modules/.streambench-lock
fi

# The compiled CLI (dist/) when the sources changed since the last build, or the stamp of the
# last build does not say what it compiled (an older build): agents and stream roles then run as
# plain JavaScript (bin/streambench.js falls back to the sources when dist is stale). The stamp,
# dist/.build-stamp, holds the content hash of the sources compiled: the code identity of dist/.
if [ ! -f dist/.build-stamp ] || ! grep -q '"sources"' dist/.build-stamp || [ -n "$(find src -name '*.ts' ! -name '*.test.ts' -newer dist/.build-stamp -print -quit)" ]; then
  echo "setup: compiling to dist/"
  node scripts/build-dist.mjs --quiet
fi

# The GUI (web/, built by Vite into dist/web/) when web/ or the API's types changed since its last
# build (dist/web/.build-stamp).
node scripts/build-web.mjs
