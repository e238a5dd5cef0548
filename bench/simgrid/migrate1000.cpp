// migrate1000: time SimGrid's live-migration plugin on the migsim reference workload.
//
// Our own program, written against SimGrid's public API only (s4u + the VM
// live-migration plugin, simgrid/plugins/live_migration.h). It runs N live
// migrations of one 1 GiB VM, strictly one after another, in a single
// simulation, and prints one JSON line with the wall time spent in
// engine.run() and in the whole program (setup included).
//
// Usage: migrate1000 [count=1000] [platform.xml] [--cfg=... SimGrid options]
//   (SimGrid consumes --cfg=/--log= arguments itself; the rest are ours.)
//
// ---------------------------------------------------------------------------
// Workload mapping ("1 GiB VM, hotset: 64 MiB written at 20,000 page writes/s")
//
// SimGrid's plugin has no notion of pages or page writes. It models dirtying
// as a byte count proportional to the flops that tasks running *inside the
// VM* have computed since the last look-up:
//
//     dirtied_bytes = flops * (migration_speed * intensity / host_speed)
//
// capped, per pre-copy round, at the VM's "working set memory". So:
//   * RAM size           -> set_ramsize(1 GiB)                  (1073741824 B)
//   * hotset 64 MiB      -> sg_vm_set_working_set_memory(64 MiB): no round
//                           ever has more than 64 MiB of dirty memory to send.
//   * 20,000 writes/s    -> 20,000 * 4096 B = 81,920,000 B/s of dirtying. A
//                           single task inside the VM computes at the full
//                           host speed for the whole run, so dirtying happens
//                           at migration_speed * intensity B/s; hence
//                           intensity = 81.92e6 / 1.25e9 = 0.065536 (6.5536 %).
//                           SimGrid treats every write as a new dirty byte
//                           (linear growth until the 64 MiB cap); it does not
//                           model rewrites of an already-dirty page.
//   * migration speed    -> 1.25e9 B/s (the 10 Gbit/s link). It must be > 0:
//                           the plugin's dirty rate is proportional to it.
//   * downtime limit     -> not settable through the public API; SimGrid uses
//                           its built-in 30 ms (sg_vm_get_max_downtime), and we
//                           print the value it used. (migsim uses 300 ms.)
//   * per-page header    -> not modelled by SimGrid (raw byte counts).
//
// Sequencing: one VM bounces h1 -> h2 -> h1 -> ... ; each sg_vm_migrate()
// call blocks the controller actor until that migration has completed, so the
// N migrations never overlap. The same long-running dirtying task keeps
// running inside the VM across all migrations (a VM's tasks move with it).
// Reusing one VM keeps the measured time about migrations, not VM creation.
// ---------------------------------------------------------------------------

#include <simgrid/plugins/live_migration.h>
#include <simgrid/s4u.hpp>
#include <simgrid/s4u/VirtualMachine.hpp>
#include <simgrid/version.h>
#include <xbt/log.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace sg4 = simgrid::s4u;

namespace {

constexpr double kRamBytes       = 1024.0 * 1024.0 * 1024.0;   // 1 GiB
constexpr double kHotsetBytes    = 64.0 * 1024.0 * 1024.0;     // 64 MiB
constexpr double kPageBytes      = 4096.0;
constexpr double kPageWritesPerS = 20000.0;
constexpr double kDirtyBytesPerS = kPageWritesPerS * kPageBytes; // 81.92e6 B/s
constexpr double kLinkBytesPerS  = 10e9 / 8.0;                   // 10 Gbit/s

struct Result {
  int done                 = 0;
  double first_sim_seconds = 0;
  double last_sim_seconds  = 0;
  double max_downtime      = 0;
};

double ms_since(std::chrono::steady_clock::time_point t0)
{
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

} // namespace

int main(int argc, char** argv)
{
  const auto t_total = std::chrono::steady_clock::now();

  // Silence SimGrid entirely (also its "Configuration change" notices): put
  // the log setting first so it is applied before any --cfg is parsed.
  std::vector<char*> args;
  std::string quiet = "--log=root.thres:critical";
  args.push_back(argv[0]);
  args.push_back(quiet.data());
  for (int i = 1; i < argc; i++)
    args.push_back(argv[i]);
  args.push_back(nullptr);
  int sg_argc = static_cast<int>(args.size()) - 1;

  sg4::Engine engine(&sg_argc, args.data());
  xbt_log_control_set("root.thres:critical");

  int count            = 1000;
  std::string platform = "bench/simgrid/platform.xml";
  if (sg_argc > 1)
    count = std::atoi(args[1]);
  if (sg_argc > 2)
    platform = args[2];
  if (count < 1) {
    std::fprintf(stderr, "usage: %s [count>=1] [platform.xml]\n", argv[0]);
    return 2;
  }

  sg_vm_live_migration_plugin_init(); // must precede VM creation
  engine.load_platform(platform);

  sg4::Host* h1 = engine.host_by_name("h1");
  sg4::Host* h2 = engine.host_by_name("h2");

  sg4::VirtualMachine* vm = h1->create_vm("vm0", 1, static_cast<size_t>(kRamBytes));
  sg_vm_set_working_set_memory(vm, static_cast<sg_size_t>(kHotsetBytes));
  sg_vm_set_migration_speed(vm, kLinkBytesPerS);
  sg_vm_set_dirty_page_intensity(vm, kDirtyBytesPerS / kLinkBytesPerS);
  vm->start();

  // The guest workload: computes at full (VM = host) speed, forever, in
  // chunks of 1e12 flops (1000 simulated seconds at 1 Gf). Chunks must stay
  // moderate: the plugin measures progress as a difference of "remaining
  // flops", which a huge amount (e.g. 1e30) would swallow in rounding and
  // report zero dirtying. Daemonized, so it is killed once the controller is
  // done and the simulation can end.
  sg4::Actor::create("dirtier", vm, [] {
    for (;;)
      sg4::this_actor::execute(1e12);
  })->daemonize();

  Result res;
  sg4::Actor::create("controller", h1, [vm, h1, h2, count, &res] {
    sg4::this_actor::yield(); // let the dirtier start its task first
    res.max_downtime = sg_vm_get_max_downtime(vm);
    for (int i = 0; i < count; i++) {
      sg4::Host* dst  = (vm->get_pm() == h1) ? h2 : h1;
      double start    = sg4::Engine::get_clock();
      sg_vm_migrate(vm, dst);
      double duration = sg4::Engine::get_clock() - start;
      if (i == 0)
        res.first_sim_seconds = duration;
      res.last_sim_seconds = duration;
      res.done++;
    }
  });

  const auto t_run = std::chrono::steady_clock::now();
  engine.run();
  const double sim_ms   = ms_since(t_run);
  const double total_ms = ms_since(t_total);

  if (res.done != count) {
    std::fprintf(stderr, "only %d of %d migrations completed\n", res.done, count);
    return 1;
  }

  std::printf("{\"tool\":\"simgrid\",\"version\":\"%d.%d\",\"migrations\":%d,\"simMs\":%.3f,\"totalMs\":%.3f,"
              "\"lastMigrationSimSeconds\":%.6f,\"firstMigrationSimSeconds\":%.6f,\"simgridMaxDowntimeSeconds\":%g,"
              "\"simulatedSecondsTotal\":%.6f}\n",
              SIMGRID_VERSION_MAJOR, SIMGRID_VERSION_MINOR, res.done, sim_ms, total_ms, res.last_sim_seconds,
              res.first_sim_seconds, res.max_downtime, sg4::Engine::get_clock());
  return 0;
}
