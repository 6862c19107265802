// The workflow bundle's entry: workflows only.
export { campaignWorkflow } from './campaign';
export { experimentWorkflow } from './experiment';
export { incubatorWorkflow } from './incubator';
export { stockroomWorkflow } from './stockroom';
export { plateWorkflow } from './plate';
