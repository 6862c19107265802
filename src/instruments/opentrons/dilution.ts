/**
 * How one dosed well's addition is made, as pure arithmetic (volumes µL, concentrations µM).
 *
 *   V_w  volume already in the well (the seeding volume, `wellVolumeMicrolitres`)
 *   V_a  volume added (`volumeMicrolitres`);  V_f = V_w + V_a, the well's final volume
 *   D    final concentration in the well (`doseMicromolar`);  S  the stock (in neat DMSO)
 *   φ    final DMSO fraction (v/v) in every well, vehicles included (config, default 0.5 %)
 *
 * The well ends at D and φ in V_f, so the added "working solution" holds
 *   C_work = D · V_f / V_a   and DMSO at   φ_work = φ · V_f / V_a.
 * Each well gets its own working solution, V_ws µL in a deep-well plate at the well's own
 * position: medium (V_ws − P) plus a DMSO part P = φ_work · V_ws, made of an aliquot v of a
 * DMSO dilution of the compound and neat DMSO (P − v):
 *   v = C_work · V_ws / C_k,   C_k = S / 10^k  the k-th rung of a ten-fold ladder in DMSO
 *   (rung 0 is the stock tube itself). A vehicle's DMSO part is all neat DMSO: every well ends
 *   at exactly φ DMSO, which is what "DMSO-matched" means here.
 * Every volume moved must be ≥ v_min (the pipetting floor, 1 µL by default): the rung used is
 * the most concentrated one with v ≥ v_min that leaves P − v either 0 or ≥ v_min. Ten-fold rungs
 * always leave such a rung when P ≥ 11 · v_min, hence V_ws = max(11 · v_min / φ_work, V_a + dead).
 * Only at rung 0 can P − v fall in (0, v_min) (D just under φ · S); V_ws then grows until the
 * neat-DMSO top-up reaches v_min, up to a deep well's worth; past that the top-up is left out if
 * the well's DMSO then falls short of φ by at most 10 % of φ (e.g. 4.99 µM from 1 mM at 0.5 %:
 * 0.2 % short), else the dose is refused. D > φ · S cannot be made: the stock is too weak for the
 * DMSO allowed (v > P even undiluted), and the request is refused.
 * Rung k ≥ 1 (R_k µL) is R_k / 10 of rung k − 1 plus 0.9 · R_k DMSO, with R_k covering what is
 * drawn from it (aliquots, the next rung) plus the deep well's dead volume, and ≥ 10 · v_min.
 * Volumes are written to 0.01 µL, so a realised dose may differ from D by up to 0.5 %.
 */

export interface DilutionInputs {
  doseMicromolar: number;
  stockMicromolar: number;
  addedMicrolitres: number;
  wellMicrolitres: number;
  dmsoFinalFraction: number;
  minimumMicrolitres: number;
  /** Largest working solution one deep well can hold. */
  maxWorkingMicrolitres: number;
  /** Dead volume left in the working well after V_a is drawn. */
  workingDeadMicrolitres: number;
  /** Deepest ladder rung available (8 rows in a deep-well plate column). */
  maxRung: number;
}

export interface WellDilution {
  workingMicrolitres: number;
  mediumMicrolitres: number;
  /** The DMSO in the working solution: P, less any top-up left out. */
  dmsoPartMicrolitres: number;
  /** Fraction of φ the well falls short by when a sub-floor top-up is left out (else 0). */
  dmsoShortfall: number;
  /** Neat DMSO added to the working solution (P − v, or all of P for a vehicle). */
  neatDmsoMicrolitres: number;
  /** Rung the aliquot comes from (0 = the stock tube); undefined for a vehicle. */
  rung?: number;
  aliquotMicrolitres?: number;
  workingMicromolar: number;
}

export type DilutionResult = { ok: true; dilution: WellDilution } | { ok: false; reason: string };

const EPSILON = 1e-9;
/** A sub-floor DMSO top-up may be left out when the well's DMSO is then at most this much short of φ. */
const MAX_DMSO_SHORTFALL = 0.1;

export function planWellDilution(input: DilutionInputs): DilutionResult {
  const { doseMicromolar: d, stockMicromolar: s, addedMicrolitres: va, wellMicrolitres: vw } = input;
  const vMin = input.minimumMicrolitres;
  const finalMicrolitres = vw + va;
  const phiWork = (input.dmsoFinalFraction * finalMicrolitres) / va;
  if (phiWork >= 1)
    return {
      ok: false,
      reason: `${input.dmsoFinalFraction * 100}% DMSO in ${finalMicrolitres} µL cannot come from ${va} µL added`,
    };
  const cWork = (d * finalMicrolitres) / va;
  let working = Math.ceil(Math.max((11 * vMin) / phiWork, va + input.workingDeadMicrolitres) / 10) * 10;
  const vehicle = d === 0;
  if (!vehicle) {
    if (d > input.dmsoFinalFraction * s * (1 + EPSILON))
      return {
        ok: false,
        reason:
          `${d} µM needs a stock of at least ${d / input.dmsoFinalFraction} µM to stay at ` +
          `${input.dmsoFinalFraction * 100}% DMSO; the stock is ${s} µM`,
      };
    const ratio = d / (input.dmsoFinalFraction * s); // v / P at rung 0
    const topUpFraction = 1 - ratio;
    if (topUpFraction > EPSILON && topUpFraction * phiWork * working < vMin) {
      // Undiluted stock leaves a top-up below the floor: grow the working solution until it is not,
      // or leave the top-up out when growing cannot help and the shortfall is small.
      const grown = Math.ceil(vMin / (topUpFraction * phiWork) / 10) * 10;
      if (grown <= input.maxWorkingMicrolitres) working = grown;
      else if (topUpFraction <= MAX_DMSO_SHORTFALL) {
        const aliquot = (cWork * working) / s;
        const dmsoPart = aliquot;
        return {
          ok: true,
          dilution: {
            workingMicrolitres: working,
            mediumMicrolitres: working - dmsoPart,
            dmsoPartMicrolitres: dmsoPart,
            dmsoShortfall: topUpFraction,
            workingMicromolar: cWork,
            rung: 0,
            aliquotMicrolitres: aliquot,
            neatDmsoMicrolitres: 0,
          },
        };
      } else
        return {
          ok: false,
          reason:
            `${d} µM is ${(ratio * 100).toFixed(1)}% of what the ${s} µM stock allows at ` +
            `${input.dmsoFinalFraction * 100}% DMSO; no working volume keeps the DMSO top-up ≥ ${vMin} µL`,
        };
    }
  }
  if (working > input.maxWorkingMicrolitres)
    return {
      ok: false,
      reason:
        `the working solution would need ${working} µL (more than ${input.maxWorkingMicrolitres} µL) to keep ` +
        `every volume ≥ ${vMin} µL`,
    };
  const dmsoPart = phiWork * working;
  const base = {
    workingMicrolitres: working,
    mediumMicrolitres: working - dmsoPart,
    dmsoPartMicrolitres: dmsoPart,
    dmsoShortfall: 0,
    workingMicromolar: cWork,
  };
  if (vehicle) return { ok: true, dilution: { ...base, neatDmsoMicrolitres: dmsoPart } };
  for (let k = 0; k <= input.maxRung; k += 1) {
    const aliquot = (cWork * working * 10 ** k) / s;
    if (aliquot < vMin - EPSILON) continue;
    const topUp = dmsoPart - aliquot;
    if (topUp < -EPSILON * dmsoPart) break;
    if (Math.abs(topUp) <= EPSILON * dmsoPart || topUp >= vMin - EPSILON)
      return {
        ok: true,
        dilution: {
          ...base,
          rung: k,
          aliquotMicrolitres: aliquot,
          neatDmsoMicrolitres: topUp >= vMin - EPSILON ? topUp : 0,
        },
      };
    break;
  }
  return {
    ok: false,
    reason:
      `${d} µM from a ${s} µM stock needs more than ${input.maxRung} ten-fold dilutions ` +
      `(or no rung keeps every volume ≥ ${vMin} µL)`,
  };
}
