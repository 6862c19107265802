/**
 * The built-in virtual lab, with the figures of ../shared/docs/DOMAIN.md (original cell_OS
 * simulation parameters). Molecular weights are the compounds' real ones; prices per mg are
 * catalogue-order estimates except tunicamycin ($50/mg, from the original pricing file). Stocks are
 * kept as labs keep them: potent compounds at 1-10 mM in DMSO (a 10 µM top dose then draws
 * 0.1-1.1 µL, keeping DMSO ≤ 0.5%); cisplatin in saline, because DMSO inactivates it; H2O2 in water.
 */
export const BUILTIN_LAB_PROFILE = {
  name: 'builtin',
  extendsBuiltin: false,
  /** DOMAIN.md's IC50s are 24 h values (the original simulator's reference treatment length). */
  referenceHours: 24,
  cellLines: {
    HEK293T: { doublingHours: 24, maxConfluence: 0.9, countCv: 0.1, viabilityCv: 0.02, bioCv: 0.05 },
    HeLa: { doublingHours: 20, maxConfluence: 0.85, countCv: 0.1, viabilityCv: 0.02, bioCv: 0.05 },
    Jurkat: { doublingHours: 18, maxConfluence: 1.0, countCv: 0.08, viabilityCv: 0.02, bioCv: 0.04 },
    U2OS: { doublingHours: 26, maxConfluence: 0.88, countCv: 0.12, viabilityCv: 0.02, bioCv: 0.06 },
    CHO: { doublingHours: 22, maxConfluence: 0.92, countCv: 0.1, viabilityCv: 0.02, bioCv: 0.05 },
    iPSC: { doublingHours: 40, maxConfluence: 0.8, countCv: 0.15, viabilityCv: 0.05, bioCv: 0.1 },
    A549: { doublingHours: 22, maxConfluence: 0.9, countCv: 0.1, viabilityCv: 0.02, bioCv: 0.05 },
    HepG2: { doublingHours: 48, maxConfluence: 0.9, countCv: 0.1, viabilityCv: 0.02, bioCv: 0.05 },
  },
  compounds: {
    staurosporine: {
      hillSlope: 1.2,
      ic50Micromolar: { HEK293T: 0.05, HeLa: 0.08, Jurkat: 0.03, U2OS: 0.2, CHO: 0.12 },
      molecularWeight: 466.5,
      usdPerMg: 40,
      stock: { concentrationMicromolar: 1_000, microlitres: 200, lot: 'STS-0001', solvent: 'DMSO' },
    },
    tunicamycin: {
      hillSlope: 1.0,
      ic50Micromolar: { HEK293T: 0.8, HeLa: 0.6, Jurkat: 0.4, U2OS: 0.3, CHO: 0.7 },
      molecularWeight: 844.9,
      usdPerMg: 50,
      stock: { concentrationMicromolar: 5_000, microlitres: 200, lot: 'TUN-0001', solvent: 'DMSO' },
    },
    doxorubicin: {
      hillSlope: 1.3,
      ic50Micromolar: { HEK293T: 0.25, HeLa: 0.15, Jurkat: 0.1, U2OS: 0.35, CHO: 0.3 },
      molecularWeight: 543.5,
      usdPerMg: 5,
      stock: { concentrationMicromolar: 10_000, microlitres: 500, lot: 'DOX-0001', solvent: 'DMSO' },
    },
    cisplatin: {
      hillSlope: 1.1,
      ic50Micromolar: { HEK293T: 5.0, HeLa: 3.0, Jurkat: 2.0, U2OS: 8.0, CHO: 6.0 },
      molecularWeight: 300.1,
      usdPerMg: 1,
      stock: { concentrationMicromolar: 3_000, microlitres: 1_000, lot: 'CIS-0001', solvent: '0.9% NaCl' },
    },
    paclitaxel: {
      hillSlope: 1.4,
      ic50Micromolar: { HEK293T: 0.01, HeLa: 0.008, Jurkat: 0.005, U2OS: 0.015, CHO: 0.012 },
      molecularWeight: 853.9,
      usdPerMg: 3,
      stock: { concentrationMicromolar: 1_000, microlitres: 200, lot: 'PTX-0001', solvent: 'DMSO' },
    },
    H2O2: {
      hillSlope: 1.5,
      ic50Micromolar: { HEK293T: 150, HeLa: 120, Jurkat: 80, U2OS: 250, CHO: 180 },
      molecularWeight: 34.0,
      usdPerMg: 0.0001,
      stock: { concentrationMicromolar: 100_000, microlitres: 1_000, lot: 'H2O2-0001', solvent: 'water' },
    },
  },
} as const;
