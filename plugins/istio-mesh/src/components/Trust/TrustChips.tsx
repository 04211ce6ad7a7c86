import Box from '@material-ui/core/Box';
import Chip from '@material-ui/core/Chip';
import { ClusterSummary } from '@mesh-portal/plugin-istio-mesh-common';

/** A cluster card's certificate line: rotation in progress and the nearest expiry warning. */
export function TrustChips({ trust, cluster }: { trust: ClusterSummary['trust']; cluster: string }) {
  if (!trust) return null;
  const expiry = trust.warnings.find(w => w.kind === 'expiry' || w.kind === 'expired');
  if (!trust.rotationInProgress && !expiry && trust.staleNamespaces === 0) return null;
  const left = trust.earliestExpiry?.daysLeft;
  let label = 'A CA certificate expires soon';
  if (expiry?.kind === 'expired') label = 'CA certificate expired';
  else if (expiry && expiry.fingerprint === trust.earliestExpiry?.fingerprintSha256 && left !== undefined) {
    label = `CA certificate expires in ${left} day${left === 1 ? '' : 's'}`;
  }
  return (
    <Box display="flex" flexWrap="wrap" style={{ gap: 8 }} mt={1} role="group" aria-label={`Certificates of ${cluster}`}>
      {expiry && (
        <Chip
          size="small"
          color="secondary"
          label={label}
        />
      )}
      {trust.rotationInProgress && <Chip size="small" variant="outlined" label={`Root rotation in progress: ${trust.roots} roots`} />}
      {trust.staleNamespaces > 0 && (
        <Chip size="small" variant="outlined" label={`${trust.staleNamespaces} namespace${trust.staleNamespaces === 1 ? '' : 's'} with a stale trust bundle`} />
      )}
    </Box>
  );
}
