/**
 * The fields of a stream decision record (the guest's controls, a point's controls.json) and the
 * JSON type of each, declared once for the two places that read such records: the stream
 * workload (src/stream/report.ts) and the GUI's server (src/server/run-marks.ts). Each ties its
 * own record type to this table at compile time, so a field added to one is missed nowhere.
 */

/** Field -> its JSON type (`estimate`: an object of numbers and strings). */
export const CONTROL_RECORD_FIELDS = {
  t: 'number',
  from: 'string',
  bitrate: 'number',
  fps: 'number',
  resolution: 'string',
  keyframe: 'boolean',
  scaler: 'string',
  scaledBack: 'string',
  applied: 'string',
  rejected: 'string',
  encodedFrame: 'number',
  encodedMs: 'number',
  shownFrame: 'number',
  shownMs: 'number',
  estimate: 'estimate',
} as const;

/** The JSON type of a field of a decision record. */
export type ControlFieldKind = (typeof CONTROL_RECORD_FIELDS)[keyof typeof CONTROL_RECORD_FIELDS];

/** The kind of a field by name; undefined for a field no record has. */
export function controlFieldKind(name: string): ControlFieldKind | undefined {
  return Object.hasOwn(CONTROL_RECORD_FIELDS, name) ? CONTROL_RECORD_FIELDS[name as keyof typeof CONTROL_RECORD_FIELDS] : undefined;
}

/** True (as a type) when a record type has exactly the table's fields; `FieldsOf<R>` fails to compile otherwise. */
export type SameFields<R> = [keyof R] extends [keyof typeof CONTROL_RECORD_FIELDS] ? ([keyof typeof CONTROL_RECORD_FIELDS] extends [keyof R] ? true : false) : false;

/** Compiles only for a record type with exactly the table's fields: `type _Check = FieldsOf<MyRecord>`. */
export type FieldsOf<R extends (SameFields<R> extends true ? unknown : never)> = R;
