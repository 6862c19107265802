// Loaded by path (DataConverter.failureConverterPath) in the client, the workers and the workflow
// bundle, so it is plain CommonJS: Node's require and the workflow bundler both read it as is.
// With encryption on, failure messages and stack traces (which can name a compound or an item)
// are moved into an encoded attribute that the payload codec then encrypts.
'use strict';
// eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS on purpose (see above)
const { DefaultFailureConverter } = require('@temporalio/common');

exports.failureConverter = new DefaultFailureConverter({ encodeCommonAttributes: true });
