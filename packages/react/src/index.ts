// @statecraft/react: a Provider and hooks on useSyncExternalStore over the client SDK's handles.
export {
  StatecraftProvider, useClient, useDoc, useText, useQuery, useStatus, usePresence,
  type StatecraftProviderProps, type SuspenseOption, type DocView, type TextView, type QueryView, type StatusView, type PresenceView,
} from './hooks.ts'
export { snapshotStore, shallowEqual, mapsEqual, type SnapshotStore } from './snapshot-store.ts'
