import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root';

/**
 * Reads a history in Temporal's standard JSON format (`temporal workflow show --output json`, the
 * Web UI's download) into a History object for Worker.runReplayHistory.
 *
 * Why not the SDK's historyFromJSON: in this install @temporalio/common and @temporalio/proto
 * each carry their own copy of protobufjs 8, and historyFromJSON hands a Type from one copy to
 * the JSON parser of the other ("type must be a Type"). Parsing with the copy that built the
 * types sidesteps it, wherever npm put that copy.
 */
type ProtoJson = {
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
};
const requireHere = createRequire(import.meta.url);
const requireFromProto = createRequire(requireHere.resolve('@temporalio/proto'));
const { fromJson } = requireFromProto('protobufjs/ext/protojson') as ProtoJson;
// The CommonJS root (an ESM namespace import is not the protobufjs Root the patch expects).
const root = patchProtobufRoot(requireHere('@temporalio/proto') as typeof proto) as unknown as {
  lookupType(name: string): unknown;
};
const historyType = root.lookupType('temporal.api.history.v1.History');

export function readHistoryFile(path: string): proto.temporal.api.history.v1.IHistory {
  const history = fromJson(historyType, JSON.parse(readFileSync(path, 'utf8')), { ignoreUnknownFields: true });
  if (!history) throw new TypeError(`${path} is not a Temporal history`);
  return history as proto.temporal.api.history.v1.IHistory;
}
