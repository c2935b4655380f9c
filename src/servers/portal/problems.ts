import type { FastifyReply } from 'fastify';
import { ERRORS, HikyakuError, type ErrorSpec } from '../../mail/index.js';
import type { Logger } from '../../observability/index.js';

/**
 * An API error as the client sees it (RFC 9457 problem+json): an HTTP status, a stable
 * `code` the UI translates, and a sentence a person understands.
 */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    detail: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(detail);
  }
}

export const notFound = (what: string) => new ApiProblem(404, 'ERR_NOT_FOUND', `${what} does not exist, or is not yours to manage.`);
export const forbidden = (detail: string) => new ApiProblem(403, 'ERR_FORBIDDEN', detail);
export const badRequest = (detail: string, extra?: Record<string, unknown>) => new ApiProblem(400, 'ERR_BAD_REQUEST', detail, extra);

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
  507: 'Insufficient Storage',
};

interface FastifyLikeError {
  statusCode?: number;
  code?: string;
  validation?: { instancePath?: string; message?: string; params?: Record<string, unknown> }[];
  validationContext?: string;
  message: string;
}

/** The one mapping from any error to its problem: status, code, sentence. Causes of 500s go to the log. */
export function problemOf(err: unknown, log: Logger): ApiProblem {
  if (err instanceof ApiProblem) return err;
  if (err instanceof HikyakuError) {
    const spec: ErrorSpec = ERRORS[err.code];
    return new ApiProblem(spec.http, err.code, `${err.message}.`.replace(/\.\.$/, '.'));
  }
  const e = err as FastifyLikeError;
  if (e.validation) {
    const first = e.validation[0];
    const field = first?.instancePath?.replace(/^\//, '').replace(/\//g, '.') || (first?.params?.missingProperty as string | undefined) || e.validationContext || 'request';
    return badRequest(`The ${e.validationContext ?? 'request'} is not valid: ${field} ${first?.message ?? 'is wrong'}.`, { field });
  }
  switch (e.code) {
    case 'FST_ERR_BAD_URL':
      return badRequest('The URL is not valid (broken percent-encoding).');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new ApiProblem(413, 'ERR_BODY_TOO_LARGE', 'The request body is larger than this call accepts.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new ApiProblem(415, 'ERR_MEDIA_TYPE', 'Send the request body as application/json.');
    case 'SQLITE_BUSY':
    case 'SQLITE_LOCKED':
      return new ApiProblem(503, 'ERR_DIRECTORY_BUSY', 'The account directory is busy; please try again in a moment.');
  }
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) return new ApiProblem(e.statusCode, 'ERR_BAD_REQUEST', 'The request could not be understood.');
  log.error({ err }, 'portal request failed');
  return new ApiProblem(500, 'ERR_INTERNAL', 'Something went wrong on our side; the cause is in the log. Please try again.');
}

export function sendProblem(reply: FastifyReply, p: ApiProblem, instance?: string): FastifyReply {
  return reply
    .code(p.status)
    .type('application/problem+json; charset=utf-8')
    .send({ type: 'about:blank', title: TITLES[p.status] ?? 'Error', status: p.status, code: p.code, detail: p.message, ...(instance ? { instance } : {}), ...p.extra });
}
