export { MeshRoutes } from './MeshRoutes';
export { MeshOverviewPage, filterRows } from './MeshOverviewPage';
