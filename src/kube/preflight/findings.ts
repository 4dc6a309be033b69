// What a preflight check found. Each is an error by default and a warning with input `preflight: warn`,
// except those marked `always`: a pod bigger than every node can never run, whatever the input says.

export type CheckName =
  | 'architecture'
  | 'capacity'
  | 'ingress class'
  | 'references'
  | 'admission'
  | 'gateway';

export interface Finding {
  check: CheckName;
  /** one sentence: the object, what is wrong with the figures, and the fix */
  message: string;
  always?: boolean;
}

export function finding(check: CheckName, message: string, always = false): Finding {
  return always ? { check, message, always } : { check, message };
}
