import { fileURLToPath } from 'node:url';

/**
 * The committed protos: PlateReader.proto as sila2-codegen generated it from
 * python/sila2-reader/PlateReader.sila.xml, and the SiLAFramework.proto of sila2 0.14.0 it imports.
 */
export const PROTO_DIR = fileURLToPath(new URL('./proto/', import.meta.url));
export const PLATE_READER_PROTO = fileURLToPath(new URL('./proto/PlateReader.proto', import.meta.url));
export const SILA_FRAMEWORK_PROTO = fileURLToPath(new URL('./proto/SiLAFramework.proto', import.meta.url));
/** The gRPC service of the feature `org.cellos/instruments/PlateReader/v1`. */
export const PLATE_READER_SERVICE = 'sila2.org.cellos.instruments.platereader.v1.PlateReader';
