import { useEffect, useState } from 'react';
import useInterval from 'react-use/esm/useInterval';

function isVisible(): boolean {
  return typeof document === 'undefined' || document.visibilityState !== 'hidden';
}

/**
 * Calls `callback` every `ms` while the browser tab is visible, and once when it becomes
 * visible again (so a tab left in the background shows fresh numbers when you return,
 * without polling Prometheus while nobody looks).
 */
export function useVisibleInterval(callback: () => void, ms: number | null) {
  const [visible, setVisible] = useState(isVisible);
  useEffect(() => {
    const onChange = () => {
      const now = isVisible();
      setVisible(now);
      if (now && ms !== null) callback();
    };
    document.addEventListener('visibilitychange', onChange);
    return () => document.removeEventListener('visibilitychange', onChange);
  }, [callback, ms]);
  useInterval(callback, visible ? ms : null);
}
