/**
 * novact's public API. Everything an embedder, an operator's tooling or a chaos harness needs is
 * exported here by name; anything not exported is internal and may change.
 */

// Running a cluster (all roles or some) and talking to it.
export { startCluster, fakeHosts, DEFAULT_IMAGE } from './cluster/cluster.js';
export type { Cluster, ClusterOptions, RoleName } from './cluster/cluster.js';
export { DEFAULT_POOLS } from './runtime/db/role-databases.js';
export type { DatabasePoolOptions, DbPool, PoolOptions, RoleDatabases } from './runtime/db/role-databases.js';
export { NovactClient } from './cluster/client.js';
export type { CallOptions, TransferOptions } from './cluster/client.js';
export { connectNats } from './runtime/nats/connection.js';
export type { NatsOptions } from './runtime/nats/connection.js';

// Role configuration.
export type { LivenessOptions } from './cluster/liveness-options.js';
export { FAST_LIVENESS, NOVA_LIVENESS, livenessProblems } from './protocols/liveness.js';
export type { FenceAction, LivenessTimings } from './protocols/liveness.js';
export { DEFAULT_SCHEDULER_CONFIG } from './actors/scheduler/scheduler.js';
export type { SchedulerConfig, SchedulerRole } from './actors/scheduler/scheduler.js';
export { DEFAULT_CAPACITY_POLICY } from './actors/scheduler/host-states.js';
export type { CapacityPolicy } from './actors/scheduler/host-states.js';
export { DEFAULT_CONDUCTOR_CONFIG } from './actors/conductor/conductor-role.js';
export type { ConductorConfig, ConductorRole } from './actors/conductor/conductor-role.js';
export { DEFAULT_COMPUTE_CONFIG } from './actors/compute/compute-role.js';
export type { ComputeConfig, ComputeHost, ComputeHostView, ComputeRole } from './actors/compute/compute-role.js';
export { DEFAULT_API_CONFIG, startApiRole } from './actors/api/api-role.js';
export type { ApiConfig, ApiRole } from './actors/api/api-role.js';
export type { ApiOptions } from './actors/api/api-config.js';
export { FsImageStore } from './actors/image/image-store.js';
export type { ImageStore } from './actors/image/image-store.js';

// Scheduler extension points: filters and weighers are plain objects; register your own through
// `ClusterOptions.scheduler.extraFilters` / `.weighers`.
export { builtinFilters, DEFAULT_FILTERS, filtersByName } from './actors/scheduler/filters/index.js';
export { builtinWeighers, defaultWeighers, DEFAULT_WEIGHER_MULTIPLIERS } from './actors/scheduler/weighers/index.js';
export { selectHosts } from './actors/scheduler/select.js';
export type { SelectOptions, Selection } from './actors/scheduler/select.js';
export type { FilterContext, HostFilter, HostState, HostWeigher, RequestSpec } from './actors/scheduler/types.js';
// Columnar filters and weighers (`HostFilter.narrow`, `HostWeigher.weighAll`) read these.
export { HostColumns } from './actors/scheduler/host-columns.js';
export type { ResourceColumn } from './actors/scheduler/host-columns.js';

// Hypervisor drivers.
// The contract suite every driver must pass is `novact/testing` (hosts/contract.ts).
export { DriverError, DRIVER_OPS } from './hosts/driver.js';
export type {
  CallOptions as DriverCallOptions, DriverCapabilities, DriverErrorKind, DriverEvent, DriverHealth, DriverOp, GuestDiagnostics, GuestInfo, GuestSpec,
  HostInfo, HostUsage, HypervisorDriver, ImageDataSink, MigrationTarget,
} from './hosts/driver.js';
export { FakeDriver } from './hosts/fake/fake-driver.js';
export { FakeFabric } from './hosts/fake/fake-migration.js';
export { fakeDiskBytes } from './hosts/fake/fake-guest-ops.js';
export type { FakeDriverOptions } from './hosts/fake/fake-driver.js';
export { LibvirtDriver } from './hosts/libvirt/libvirt-driver.js';
export type { LibvirtDriverOptions } from './hosts/libvirt/libvirt-driver.js';
export { LibvirtFabric } from './hosts/libvirt/fabric.js';
export { startLibvirtHosts, type LibvirtHosts, type LibvirtHostOptions } from './cluster/libvirt-hosts.js';
export { seedTestImage, TEST_IMAGE_NAME } from './cluster/test-image-seed.js';
export { startLibvirtd, type LibvirtdHandle, type LibvirtdOptions } from './runtime/services/libvirtd.js';
export { FaultInjector } from './hosts/fake/fault-plan.js';
export type { FaultPlan, FaultRule, GuestFaultPlan } from './hosts/fake/fault-plan.js';

// Protocols: subjects, envelopes, messages, states, the pure lifecycle, errors.
export { Subjects, DEFAULT_ROOT } from './protocols/subjects.js';
export { PROTOCOL_VERSION } from './protocols/envelope.js';
export type { RequestEnvelope, ReplyEnvelope } from './protocols/envelope.js';
export type * from './protocols/messages.js';
export { VM_STATES, TASK_STATES, PowerState, apiStatus } from './protocols/states.js';
export type { ApiStatus, TaskState, VmState } from './protocols/states.js';
export { transition, initialState } from './protocols/lifecycle.js';
export { ACTIONS, STEPS } from './protocols/lifecycle.js';
export type { ActionName, Caller, Effect, LifecycleConfig, LifecycleEvent, LifecycleState, Outcome, PowerOp, TaskContext, Transition } from './protocols/lifecycle.js';
export type { CapacityReport, Flavor, ImageMeta, Inventory, ResourceClass, Resources } from './protocols/resources.js';
export {
  NovactError, BadRequestError, ForbiddenError, NotFoundError, ConflictError, OverLimitError, NoValidHostError,
  InternalError, UnavailableError, TimeoutError, fromWire,
} from './protocols/errors.js';
export type { FaultName, WireError } from './protocols/errors.js';

// Runtime pieces useful to embedders and test harnesses.
export { systemClock, ManualClock } from './runtime/clock.js';
export type { Clock, Timer } from './runtime/clock.js';
export { createLogger } from './runtime/log/logger.js';
export type { Logger, LogLevel, LogSink } from './runtime/log/logger.js';
export type { TracingOptions } from './runtime/trace/provider.js';
export type { RequestScope } from './runtime/trace/scope.js';
export { currentScope } from './runtime/trace/scope.js';
export { startNatsServer } from './runtime/services/nats-server.js';
export type { NatsServerHandle, NatsServerOptions } from './runtime/services/nats-server.js';
export { startPostgres } from './runtime/services/postgres-server.js';
export type { PostgresHandle, PostgresOptions } from './runtime/services/postgres-server.js';
