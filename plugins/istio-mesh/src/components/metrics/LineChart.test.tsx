import { renderInTestApp } from '@backstage/test-utils';
import { fireEvent, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { LineChart } from './LineChart';
import { formatNumber, niceTicks, timeTicks } from './scale';

jest.setTimeout(30_000);

// Local time 10:00 on some day, so tick labels do not depend on the machine's zone.
const t0 = new Date(2026, 10, 25, 10, 0, 0).getTime();
const minute = 60_000;
const points = (values: Array<number | null>) => values.map((v, i) => ({ t: t0 + i * 5 * minute, v }));

describe('scale', () => {
  it('picks nice ticks that cover the maximum', () => {
    expect(niceTicks(2.1)).toEqual([0, 1, 2, 3]);
    expect(niceTicks(0.3)).toEqual([0, 0.1, 0.2, 0.3]);
    expect(niceTicks(180)).toEqual([0, 50, 100, 150, 200]);
    expect(niceTicks(0)).toEqual([0, 1]);
  });
  it('puts time ticks on whole steps inside the window', () => {
    expect(timeTicks(t0, t0 + 60 * minute).map(t => (t - t0) / minute)).toEqual([0, 15, 30, 45, 60]);
    expect(timeTicks(t0 + 1, t0 + 15 * minute).map(t => (t - t0) / minute)).toEqual([5, 10, 15]);
  });
  it('formats numbers to three significant digits', () => {
    expect([0, 0.004567, 0.5, 2.016, 123.6].map(formatNumber)).toEqual(['0', '0.00457', '0.5', '2.02', '124']);
  });
});

describe('LineChart', () => {
  it('draws one line per series with its points, axes with units, a legend and a summary label', async () => {
    await renderInTestApp(
      <LineChart
        title="Latency"
        unit="ms"
        series={[
          { name: 'p50', points: points([30, 31, 29, 30]) },
          { name: 'p99', points: points([120, null, 150, 140]) },
        ]}
      />,
    );
    const img = screen.getByRole('img');
    expect(img).toHaveAccessibleName(
      'Latency, 10:00 to 10:15. p50: latest 30 ms, min 29 ms, max 31 ms; p99: latest 140 ms, min 120 ms, max 150 ms.',
    );
    const lines = img.querySelectorAll('[data-testid="chart-line"]');
    expect([...lines].map(l => [l.getAttribute('data-series'), l.getAttribute('data-points')])).toEqual([
      ['p50', '4'],
      ['p99', '3'],
    ]);
    // The gap splits p99's line into two pieces.
    expect(lines[1].getAttribute('d')?.match(/M/g)).toHaveLength(2);
    expect([...img.querySelectorAll('[data-testid="y-tick"]')].map(t => t.textContent)).toEqual(['0', '50', '100', '150']);
    expect([...img.querySelectorAll('[data-testid="x-tick"]')].map(t => t.textContent)).toEqual(['10:00', '10:05', '10:10', '10:15']);
    expect(within(img).getByText('ms')).toBeInTheDocument();
    const legend = screen.getByRole('list', { name: 'Latency legend' });
    expect(within(legend).getAllByRole('listitem').map(li => li.textContent)).toEqual(['p50', 'p99']);
  });

  it('shows the values at a point on keyboard focus and arrow keys', async () => {
    await renderInTestApp(
      <LineChart title="Requests per second" unit="req/s" series={[{ name: 'payments-api', points: points([1, 2, 3]) }]} />,
    );
    const img = screen.getByRole('img');
    fireEvent.focus(img);
    expect(screen.getByRole('status')).toHaveTextContent('10:10payments-api: 3 req/s');
    fireEvent.keyDown(img, { key: 'ArrowLeft' });
    expect(screen.getByRole('status')).toHaveTextContent('10:05payments-api: 2 req/s');
    fireEvent.keyDown(img, { key: 'Home' });
    expect(screen.getByRole('status')).toHaveTextContent('10:00payments-api: 1 req/s');
    fireEvent.keyDown(img, { key: 'Escape' });
    expect(screen.queryByRole('status')).not.toBeInTheDocument();
  });

  it('offers the numbers as a table', async () => {
    await renderInTestApp(
      <LineChart
        title="5xx error rate"
        unit="%"
        series={[
          { name: 'asm-1-29', points: points([0.5, 0.5]) },
          { name: 'asm-1-30', points: points([null, 20]) },
        ]}
      />,
    );
    await userEvent.click(screen.getByRole('button', { name: 'Show data table' }));
    const table = screen.getByRole('table', { name: '5xx error rate (%)' });
    const rows = within(table).getAllByRole('row').map(r => [...r.querySelectorAll('th, td')].map(c => c.textContent));
    expect(rows).toEqual([
      ['Time', 'asm-1-29', 'asm-1-30'],
      ['10:00', '0.5', '—'],
      ['10:05', '0.5', '20'],
    ]);
  });

  it('says when the window has no data', async () => {
    await renderInTestApp(<LineChart title="Requests per second" unit="req/s" series={[{ name: 'x', points: [] }]} />);
    expect(screen.getByRole('img')).toHaveAccessibleName('Requests per second: no data in this window.');
    expect(screen.getByText('No data in this window')).toBeInTheDocument();
  });
});
