// What the analysis needs from the knowledge base for one kernel table: lookups by name, and the gfp model.
import type { GfpModel } from '../model/gfp';
import type {
  AllocatorEntry, GuardEntry, KernelTable, LockApiEntry, LockFlagEntry, ScopeApiEntry, SleeperEntry, TransactionEntry,
  UaccessEntry,
} from '../model/kb/types';

export interface KbView {
  table: KernelTable;
  gfp: GfpModel;
  allocator(name: string): AllocatorEntry | undefined;
  scope(name: string): ScopeApiEntry | undefined;
  lock(name: string): LockApiEntry | undefined;
  lockFlags(api: string): LockFlagEntry[];
  guard(name: string): GuardEntry | undefined;
  uaccess(name: string): UaccessEntry | undefined;
  sleeper(name: string): SleeperEntry | undefined;
  transaction(name: string): TransactionEntry | undefined;
}
