import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Log, PipelineMetrics } from '#core/ports/observability.ts';

/** Structured JSON logs (Powertools); the service name groups a function's logs. */
export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}

/** Namespace of the business metrics (the CDK's metric filters, alarms and dashboard read it too). */
export const METRICS_NAMESPACE = 'ArdoqAdoSync';

/** Business metrics as CloudWatch EMF (namespace METRICS_NAMESPACE), flushed by the handler. */
export function createMetrics(serviceName: string): { metrics: Metrics; port: PipelineMetrics } {
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName });
  return {
    metrics,
    port: {
      count: (name, n = 1) => metrics.addMetric(name, MetricUnit.Count, n),
      durationMs: (name, ms) => metrics.addMetric(name, MetricUnit.Milliseconds, ms),
    },
  };
}

/** The core's `Log` port over a Powertools logger (attributes become top-level JSON keys). */
export function asLog(logger: Logger): Log {
  const at = (attributes?: Record<string, unknown>) => (attributes ? [attributes] : []) as [];
  return {
    debug: (message, attributes) => logger.debug(message, ...at(attributes)),
    info: (message, attributes) => logger.info(message, ...at(attributes)),
    warn: (message, attributes) => logger.warn(message, ...at(attributes)),
    error: (message, attributes) => logger.error(message, ...at(attributes)),
  };
}
