import {
  InfoCard,
  Progress,
  ResponseErrorPanel,
  Table,
} from '@backstage/core-components';
import { alertApiRef, useApi } from '@backstage/core-plugin-api';
import { usePermission } from '@backstage/plugin-permission-react';
import Box from '@material-ui/core/Box';
import Button from '@material-ui/core/Button';
import Chip from '@material-ui/core/Chip';
import Dialog from '@material-ui/core/Dialog';
import DialogActions from '@material-ui/core/DialogActions';
import DialogContent from '@material-ui/core/DialogContent';
import DialogTitle from '@material-ui/core/DialogTitle';
import Tab from '@material-ui/core/Tab';
import Tabs from '@material-ui/core/Tabs';
import TextField from '@material-ui/core/TextField';
import Tooltip from '@material-ui/core/Tooltip';
import Typography from '@material-ui/core/Typography';
import { makeStyles } from '@material-ui/core/styles';
import Alert from '@material-ui/lab/Alert';
import {
  ClusterDetail,
  istioMeshMeshConfigUpdatePermission,
  MeshConfigChange,
  MeshConfigEffectiveField,
  MeshConfigFieldClass,
  MeshConfigFinding,
  MeshConfigValidation,
  MeshConfigView,
} from '@mesh-portal/plugin-istio-mesh-common';
import { useEffect, useState } from 'react';
import useAsyncRetry from 'react-use/esm/useAsyncRetry';
import useDebounce from 'react-use/esm/useDebounce';
import { istioMeshApiRef } from '../../api/IstioMeshApi';

/** How long typing pauses before the document is validated. */
export const VALIDATE_DEBOUNCE_MS = 400;

const useStyles = makeStyles(theme => ({
  code: {
    fontFamily: 'monospace',
    fontSize: '0.85em',
    whiteSpace: 'pre-wrap',
    wordBreak: 'break-word',
    margin: 0,
  },
  editor: { fontFamily: 'monospace', fontSize: '0.9em' },
  supported: {
    backgroundColor: theme.palette.success?.main ?? '#2e7d32',
    color: '#fff',
  },
  allowed: {
    backgroundColor: theme.palette.warning?.main ?? '#ed6c02',
    color: '#000',
  },
  blocked: { backgroundColor: theme.palette.error.main, color: '#fff' },
}));

const short = (value: unknown) =>
  value === undefined ? '—' : JSON.stringify(value);

export function ClassBadge({ cls }: { cls?: MeshConfigFieldClass }) {
  const classes = useStyles();
  if (!cls) return null;
  const title = {
    supported: 'Supported: covered by Azure support',
    allowed: 'Allowed: the add-on accepts it, Azure support does not cover it',
    blocked:
      'Blocked: the add-on rejects it in the shared ConfigMap (the add-on may set it itself)',
  }[cls];
  return (
    <Tooltip title={title}>
      <Chip size="small" label={cls} className={classes[cls]} />
    </Tooltip>
  );
}

const SOURCE_LABEL = {
  default: 'add-on default',
  shared: 'shared',
  both: 'both (same value)',
} as const;

function EffectiveTable({ view }: { view: MeshConfigView }) {
  const classes = useStyles();
  return (
    <Table<MeshConfigEffectiveField>
      title={`Effective MeshConfig of ${view.revision}`}
      options={{
        paging: false,
        search: false,
        padding: 'dense',
        toolbar: true,
      }}
      columns={[
        { title: 'Field', field: 'path', render: f => <code>{f.path}</code> },
        {
          title: 'Value',
          render: f => <pre className={classes.code}>{short(f.value)}</pre>,
        },
        { title: 'Source', render: f => SOURCE_LABEL[f.source] },
        { title: 'Class', render: f => <ClassBadge cls={f.class} /> },
        {
          title: 'Note',
          render: f =>
            f.overridden ? (
              <Typography variant="body2" color="error">
                overridden by the add-on default (ignored): shared value{' '}
                {short(f.sharedValue)}
              </Typography>
            ) : null,
        },
      ]}
      data={view.effective.fields.map(f => ({ ...f }))}
    />
  );
}

export function FindingsList({ findings }: { findings: MeshConfigFinding[] }) {
  if (findings.length === 0) return null;
  return (
    <Box mt={1} role="list" aria-label="Findings">
      {findings.map((f, i) => (
        <Alert
          key={i}
          severity={f.severity}
          role="listitem"
          style={{ marginBottom: 4 }}
        >
          {f.line !== undefined && (
            <strong>{`${f.line}:${f.column ?? 1} `}</strong>
          )}
          {f.path && <code>{f.path}</code>} {f.message}
        </Alert>
      ))}
    </Box>
  );
}

function DiffList({ diff }: { diff: MeshConfigChange[] }) {
  const classes = useStyles();
  if (diff.length === 0) return <Typography>No changes.</Typography>;
  return (
    <Box role="list" aria-label="Changes">
      {diff.map(c => (
        <Box key={c.path} role="listitem" mb={1}>
          <Typography variant="body2">
            <strong>{c.change}</strong> <code>{c.path}</code>
          </Typography>
          <pre className={classes.code}>
            {c.change !== 'added' && `- ${short(c.before)}\n`}
            {c.change !== 'removed' && `+ ${short(c.after)}`}
          </pre>
        </Box>
      ))}
    </Box>
  );
}

function errorMessage(error: unknown): string {
  const e = error as {
    body?: { error?: { message?: string } };
    message?: string;
  };
  return e?.body?.error?.message ?? e?.message ?? String(error);
}

function statusOf(error: unknown): number | undefined {
  return (error as { response?: { status?: number } })?.response?.status;
}

/** One revision: the effective view, and the editor of its shared document. */
function RevisionMeshConfig({
  cluster,
  revision,
}: {
  cluster: string;
  revision: string;
}) {
  const api = useApi(istioMeshApiRef);
  const alertApi = useApi(alertApiRef);
  const classes = useStyles();
  const permission = usePermission({
    permission: istioMeshMeshConfigUpdatePermission,
  });
  const {
    value: view,
    loading,
    error,
    retry,
  } = useAsyncRetry(
    () => api.getMeshConfig(cluster, revision),
    [api, cluster, revision],
  );
  const [draft, setDraft] = useState<string | undefined>(undefined);
  // The findings and the text they are for: a save needs findings for exactly what is in the editor.
  const [validation, setValidation] = useState<
    (MeshConfigValidation & { yaml: string }) | undefined
  >(undefined);
  const [validationError, setValidationError] = useState<string | undefined>(
    undefined,
  );
  const [preview, setPreview] = useState(false);
  const [saving, setSaving] = useState(false);
  const [saveError, setSaveError] = useState<
    { conflict: boolean; message: string } | undefined
  >(undefined);

  // A fresh view (first load, reload, after a save) resets the editor to the stored document.
  useEffect(() => {
    if (view) {
      setDraft(view.shared.yaml);
      setValidation(undefined);
    }
  }, [view]);

  const changed =
    view !== undefined && draft !== undefined && draft !== view.shared.yaml;
  useDebounce(
    () => {
      if (!view?.editable || draft === undefined || !changed) return;
      let current = true;
      const yaml = draft;
      api
        .validateMeshConfig(cluster, revision, yaml)
        .then(result => {
          if (current) {
            setValidation({ ...result, yaml });
            setValidationError(undefined);
          }
        })
        .catch(e => current && setValidationError(errorMessage(e)));
      // eslint-disable-next-line consistent-return
      return () => {
        current = false;
      };
    },
    VALIDATE_DEBOUNCE_MS,
    [draft, view, cluster, revision],
  );

  if (loading && !view) return <Progress />;
  if (error) return <ResponseErrorPanel error={error} />;
  if (!view) return null;

  const upToDate = changed && validation?.yaml === draft;
  const blockers: string[] = [];
  if (!permission.allowed)
    blockers.push(
      'You are not allowed to change the shared MeshConfig (permission istio-mesh.meshconfig.update).',
    );
  if (!changed) blockers.push('Nothing changed yet.');
  else if (!upToDate) blockers.push('Validating…');
  else if (!validation!.valid) blockers.push('Fix the errors first.');
  const canSave = blockers.length === 0 && !saving;

  const save = async () => {
    setSaving(true);
    setSaveError(undefined);
    try {
      const result = await api.updateMeshConfig(cluster, {
        revision,
        yaml: draft ?? '',
        ...(view.shared.resourceVersion
          ? { resourceVersion: view.shared.resourceVersion }
          : {}),
      });
      setPreview(false);
      alertApi.post({
        message: `Saved ${result.view.shared.configMap} (${
          result.diff.length
        } change${result.diff.length === 1 ? '' : 's'}).`,
        severity: 'success',
        display: 'transient',
      });
      retry();
    } catch (e) {
      setPreview(false);
      setSaveError({ conflict: statusOf(e) === 409, message: errorMessage(e) });
    } finally {
      setSaving(false);
    }
  };

  const saveButton = (
    <span>
      <Button
        variant="contained"
        color="primary"
        size="small"
        disabled={!canSave}
        onClick={() => setPreview(true)}
      >
        Preview and save
      </Button>
    </span>
  );

  return (
    <Box>
      {view.overridden.length > 0 && (
        <Alert severity="info" style={{ marginBottom: 8 }}>
          The add-on's default ({view.addonDefault.configMap}) wins on conflict:{' '}
          {view.overridden.map(o => o.path).join(', ')} from{' '}
          {view.shared.configMap} {view.overridden.length === 1 ? 'is' : 'are'}{' '}
          ignored.
        </Alert>
      )}
      <EffectiveTable view={view} />
      <Box mt={2}>
        <Typography variant="h6">
          Shared document: {view.shared.configMap}
          {view.shared.exists
            ? ` (resourceVersion ${view.shared.resourceVersion})`
            : ' (does not exist yet: saving creates it)'}
        </Typography>
        {!view.editable ? (
          <>
            <Alert severity="info">{view.readOnlyReason}</Alert>
            <pre className={classes.code}>{view.addonDefault.yaml}</pre>
          </>
        ) : (
          <>
            {!changed && <FindingsList findings={view.shared.findings} />}
            <TextField
              multiline
              fullWidth
              variant="outlined"
              minRows={8}
              value={draft ?? ''}
              onChange={e => setDraft(e.target.value)}
              inputProps={{
                'aria-label': `Shared MeshConfig of ${revision}`,
                spellCheck: false,
                className: classes.editor,
              }}
            />
            {upToDate && <FindingsList findings={validation!.findings} />}
            {upToDate &&
              validation?.valid &&
              validation.findings.length === 0 && (
                <Typography variant="body2" color="textSecondary">
                  No findings.
                </Typography>
              )}
            {validationError && (
              <Alert severity="error">
                Could not validate: {validationError}
              </Alert>
            )}
            {saveError && (
              <Alert
                severity={saveError.conflict ? 'warning' : 'error'}
                style={{ marginTop: 8 }}
                action={
                  saveError.conflict ? (
                    <Button
                      color="inherit"
                      size="small"
                      onClick={() => {
                        setSaveError(undefined);
                        retry();
                      }}
                    >
                      Reload
                    </Button>
                  ) : undefined
                }
              >
                {saveError.message}
              </Alert>
            )}
            <Box mt={1} display="flex" style={{ gap: 8 }}>
              {canSave ? (
                saveButton
              ) : (
                <Tooltip title={blockers.join(' ')}>{saveButton}</Tooltip>
              )}
              <Button
                size="small"
                disabled={!changed}
                onClick={() => setDraft(view.shared.yaml)}
              >
                Discard changes
              </Button>
            </Box>
          </>
        )}
      </Box>
      <Dialog
        open={preview}
        onClose={() => setPreview(false)}
        maxWidth="md"
        fullWidth
      >
        <DialogTitle>Save {view.shared.configMap}?</DialogTitle>
        <DialogContent>
          <Typography variant="body2" paragraph>
            This reaches every proxy of {revision} on {cluster}.
          </Typography>
          <DiffList diff={validation?.diff ?? []} />
          {(validation?.overridden ?? []).length > 0 && (
            <Alert severity="info">
              Ignored because the add-on's default sets them:{' '}
              {validation!.overridden!.map(o => o.path).join(', ')}
            </Alert>
          )}
          {(validation?.findings ?? []).length > 0 && (
            <FindingsList findings={validation!.findings} />
          )}
        </DialogContent>
        <DialogActions>
          <Button onClick={() => setPreview(false)}>Cancel</Button>
          <Button
            color="primary"
            variant="contained"
            disabled={saving}
            onClick={save}
          >
            Save
          </Button>
        </DialogActions>
      </Dialog>
    </Box>
  );
}

/**
 * The shared MeshConfig of each installed revision: the effective view with each field's
 * class and source, and an editor that validates as you type, previews the diff and saves
 * with optimistic concurrency.
 */
export function MeshConfigPanel({ cluster }: { cluster: ClusterDetail }) {
  const revisions = cluster.controlPlane.revisions.map(r => r.revision);
  const [selected, setSelected] = useState(0);
  if (revisions.length === 0) {
    return (
      <InfoCard title="MeshConfig">
        <Typography>No control plane is installed.</Typography>
      </InfoCard>
    );
  }
  const index = Math.min(selected, revisions.length - 1);
  return (
    // A named region, so that assistive technology (and the e2e spec) can find the panel.
    <section aria-label="MeshConfig">
      <InfoCard title="MeshConfig">
        {revisions.length > 1 && (
          <Tabs
            value={index}
            onChange={(_, v) => setSelected(v)}
            indicatorColor="primary"
            aria-label="Revision"
          >
            {revisions.map(r => (
              <Tab key={r} label={r} />
            ))}
          </Tabs>
        )}
        <RevisionMeshConfig
          key={revisions[index]}
          cluster={cluster.cluster}
          revision={revisions[index]}
        />
      </InfoCard>
    </section>
  );
}
