import type { Writable } from 'node:stream';
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { ApiResult } from '#lambdas/api/router.ts';

/** Lambda's response stream helpers (the `awslambda` global of the Node.js runtime). */
export interface ResponseStreamRuntime {
  from(stream: Writable, metadata: { statusCode: number; headers: Record<string, string> }): Writable;
}

/**
 * Writes an answer to a Lambda response stream (API Gateway REST `responseTransferMode: STREAM`):
 * SSE frames as they come, a buffered answer in one write. Stops when the client is gone.
 */
export async function writeToResponseStream(
  result: ApiResult,
  stream: Writable,
  runtime: ResponseStreamRuntime,
): Promise<void> {
  if (!('kind' in result)) {
    const buffered = result as APIGatewayProxyResult;
    const out = runtime.from(stream, {
      statusCode: buffered.statusCode,
      headers: (buffered.headers ?? {}) as Record<string, string>,
    });
    out.end(buffered.body);
    return;
  }
  const out = runtime.from(stream, { statusCode: result.statusCode, headers: result.headers });
  const closed = () => out.destroyed || out.writableEnded;
  await result.pump({
    closed,
    write: (chunk) =>
      new Promise<void>((resolve) => {
        if (closed() || out.write(chunk)) resolve();
        else {
          out.once('drain', resolve);
          out.once('close', resolve);
        }
      }),
  });
  if (!closed()) out.end();
}
