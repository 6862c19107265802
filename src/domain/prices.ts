/**
 * Unit prices, USD. Figures marked DOMAIN come from the original cell_OS pricing file
 * (../shared/docs/DOMAIN.md); the others are catalogue-order estimates, stated so a lab can
 * replace them with its own.
 */
export const PRICES = {
  plate96PlainUsd: 4.0, // DOMAIN
  plate96ImagingUsd: 8.33, // DOMAIN
  tipUsd: 0.18, // DOMAIN: $0.14-0.23 each
  dmemUsdPerMl: 0.05, // DOMAIN
  fbsUsdPerMl: 1.0, // DOMAIN
  dmsoUsdPerMl: 0.45, // DOMAIN
  /** CellTiter-Glo-style luminescent reagent, per 96-well well (estimate). */
  viabilityReagentUsdPerWell: 0.35,
  /** Reporter substrate, per well (estimate). */
  reporterReagentUsdPerWell: 0.2,
  /** Nuclear and cytoplasmic stains for imaging, per well (estimate). */
  imagingStainUsdPerWell: 0.1,
  imagerUsdPerHour: 50, // DOMAIN
  /** Plate reader and liquid handler time (estimate). */
  plateReaderUsdPerHour: 20,
  liquidHandlerUsdPerHour: 30,
} as const;

/** Instrument timings used for pricing. Imaging: 1 s per field per channel + 5 s per well (DOMAIN). */
export const TIMINGS = {
  imagingChannels: 3,
  imagingSitesPerWell: 9,
  imagingSecondsPerFieldChannel: 1,
  imagingSecondsPerWell: 5,
  // A plate read takes about a minute (the lab config's secondsPerPlate): a 96th of it per well.
  readerSecondsPerWell: 60 / 96,
  liquidHandlerSecondsPerTransfer: 8,
} as const;

/** Seeding density and volumes (DOMAIN: 10,000 cells in 100 µL, imaging 5,000; 10 µL compound). */
export const PROTOCOL = {
  cellsPerWell: 10_000,
  cellsPerWellImaging: 5_000,
  mediumMicrolitres: 100,
  compoundAdditionMicrolitres: 10,
  fbsFraction: 0.1,
  dmsoFractionOfFinal: 0.005,
} as const;
