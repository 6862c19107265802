/**
 * The four-parameter logistic in log dose (R drc's LL.4):
 *   v(x) = B + (T - B) / (1 + 10^(h (x - m))),  x = log10 dose (µM), m = log10 relative IC50.
 * Everything in the learner works in log10 µM because that is the scale on which IC50 errors,
 * intervals and dilution steps are judged.
 */
export interface CurveParams {
  top: number;
  bottom: number;
  /** log10 of the relative IC50 (midpoint between the plateaus), µM. */
  log10Ic50: number;
  hill: number;
}

export function curveResponse(p: CurveParams, log10Dose: number): number {
  return p.bottom + (p.top - p.bottom) / (1 + Math.pow(10, p.hill * (log10Dose - p.log10Ic50)));
}

/**
 * log10 dose at which the curve reaches `response`, or undefined when the curve never does
 * (the response lies outside the open interval between the plateaus).
 */
export function log10DoseForResponse(p: CurveParams, response: number): number | undefined {
  const hi = Math.max(p.top, p.bottom);
  const lo = Math.min(p.top, p.bottom);
  if (!(response > lo && response < hi)) return undefined;
  return p.log10Ic50 + Math.log10((p.top - response) / (response - p.bottom)) / p.hill;
}

/** log10 absolute IC50: where the response crosses 0.5 of the vehicle, if it ever does. */
export function absoluteLog10Ic50(p: CurveParams): number | undefined {
  return log10DoseForResponse(p, 0.5);
}
