/**
 * The X side of the SPICE workload: the Xorg binary whose spiceqxl driver is the SPICE server, its
 * configuration for a point's settings (the display and port it takes are the desktop machinery's).
 */
import type { SpiceSettings } from '../../config/spice-settings.ts';

/** The Xorg of Debian's xserver-xspice, which loads the spiceqxl driver. */
export const XORG = '/usr/lib/xorg/Xorg';

/** The X server configuration of the SPICE server for these settings, listening on address:port. */
export function xorgConfig(s: SpiceSettings, port: number, address: string, password: string): string {
  const opt = (k: string, v: string | number | undefined) => (v === undefined ? '' : `    Option "${k}" "${v}"\n`);
  // The buffer sizes must be given: with the package's defaults this Xorg crashes at start
  // ("resizing surface0 to 0").
  return `Section "Device"
    Identifier "XSPICE"
    Driver "spiceqxl"
${opt('SpicePort', port)}${opt('SpiceAddr', address)}${opt('SpicePassword', password)}${opt('SpiceStreamingVideo', s.streaming)}${opt('SpiceVideoCodecs', s.codec)}${opt('SpiceImageCompression', s.imageCompression)}${opt('SpiceJpegWanCompression', s.jpegWan)}${opt('SpiceZlibGlzWanCompression', s.zlibWan)}${opt('SpiceDeferredFPS', s.deferredFps)}${opt('NumHeads', 1)}${opt('FrameBufferSize', Math.max(16, Math.ceil((s.width * s.height * 4) / 1048576) + 4))}${opt('SurfaceBufferSize', 128)}${opt('CommandBufferSize', 128)}EndSection
Section "InputDevice"
    Identifier "XSPICE POINTER"
    Driver     "xspice pointer"
EndSection
Section "InputDevice"
    Identifier "XSPICE KEYBOARD"
    Driver     "xspice keyboard"
EndSection
Section "Monitor"
    Identifier    "Configured Monitor"
EndSection
Section "Screen"
    Identifier     "XSPICE Screen"
    Monitor        "Configured Monitor"
    Device        "XSPICE"
    DefaultDepth    24
    SubSection "Display"
        Virtual ${s.width} ${s.height}
        Modes "${s.width}x${s.height}"
    EndSubSection
EndSection
Section "ServerLayout"
    Identifier "XSPICE"
    Screen "XSPICE Screen"
    InputDevice "XSPICE KEYBOARD"
    InputDevice "XSPICE POINTER"
EndSection
Section "ServerFlags"
    Option "AutoAddDevices" "False"
EndSection
`;
}
