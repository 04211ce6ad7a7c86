import { Header, Page } from '@backstage/core-components';
import { Route, Routes } from 'react-router-dom';
import { ClusterPage } from '../ClusterPage/ClusterPage';
import { MeshOverviewPage } from './MeshOverviewPage';

/** The Service Mesh page: the fleet overview and, below it, one page per cluster. */
export function MeshRoutes() {
  return (
    <Page themeId="tool">
      <Header title="Service Mesh" subtitle="Istio revisions, drift and upgrades across the fleet" />
      <Routes>
        <Route path="/" element={<MeshOverviewPage />} />
        <Route path="/clusters/:cluster" element={<ClusterPage />} />
      </Routes>
    </Page>
  );
}
