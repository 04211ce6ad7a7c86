export { EntityServiceMeshContent } from './EntityServiceMeshContent';
