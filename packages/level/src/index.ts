// @statecraft/level: Statecraft's durable store on LevelDB (classic-level).
export { levelStore, openLevelStore, type LevelStore, type LevelStoreOptions, type LevelStoreStats, type LevelMemoryStats } from './level-store.ts'
export { FORMAT_VERSION } from './open.ts'
