import { ResponseError } from '@backstage/errors';
import Alert from '@material-ui/lab/Alert';

/** The message a failed metrics request should show in one line. */
export function metricsErrorMessage(error: Error): string {
  if (error instanceof ResponseError || error.name === 'ResponseError') {
    const e = error as ResponseError;
    const status = e.response?.status;
    const message = e.body?.error?.message ?? e.message;
    return status === 503 ? `Metrics unavailable: ${message}` : `Metrics could not be read (${status}): ${message}`;
  }
  return `Metrics could not be read: ${error.message}`;
}

/**
 * One line saying why there are no (or only some) metrics; never an error panel, so the
 * rest of the page keeps working when Prometheus is missing or down.
 */
export function MetricsNote(props: { children: string; severity?: 'info' | 'warning' }) {
  return (
    <Alert severity={props.severity ?? 'info'} role="status" style={{ paddingTop: 0, paddingBottom: 0 }}>
      {props.children}
    </Alert>
  );
}
