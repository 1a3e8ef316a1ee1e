/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/rvmsi.h>
#include <systemd/sd-daemon.h>

#include "config.h"

#include "backend-kernel.h"
#include "backend-sim.h"
#include "bus-manager.h"
#include "bus-names.h"
#include "fileio.h"
#include "iommu_cmd.h"
#include "json-util.h"
#include "log.h"
#include "manager.h"
#include "policy-json.h"
#include "scenario.h"
#include "state.h"
#include "strv.h"
#include "watch-irq.h"
#include "watch-vfio.h"

#define POLICY_FILE_NAME "policy.json"
#define STATE_FILE_NAME "state.json"
/* A policy set over D-Bus, kept across restarts until the next Reload. */
#define DBUS_POLICY_FILE_NAME "policy-dbus.json"
/* Plan() and CheckPolicy() are open to everyone and run synchronously on
 * the event loop: bound what anyone can make the daemon parse. */
#define JSON_ARG_MAX (1024 * 1024)

static const char *const affinity_source_table[_AFFINITY_SOURCE_MAX] = {
        [AFFINITY_SOURCE_SIM] = "sim",
        [AFFINITY_SOURCE_KERNEL_EVENTS] = "kernel-events",
        [AFFINITY_SOURCE_PROC_POLL] = "proc-poll",
};

const char *affinity_source_to_string(AffinitySource s) {
        if (s < 0 || s >= _AFFINITY_SOURCE_MAX)
                return NULL;
        return affinity_source_table[s];
}

int manager_error_set(ManagerError *e, ManagerErrorCode code, int error, const char *fmt, ...) {
        va_list ap;

        if (e) {
                e->code = code;
                va_start(ap, fmt);
                (void) vsnprintf(e->message, sizeof(e->message), fmt, ap);
                va_end(ap);
        }
        return error < 0 ? error : -error;
}

static uint64_t now_realtime_usec(void) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

const char *target_to_string(uint32_t target, char buf[static 32]) {
        snprintf(buf, 32, "%s:%u", TARGET_IS_VCPU(target) ? "vcpu" : "hart", TARGET_INDEX(target));
        return buf;
}

int target_from_string(const char *s, uint32_t *ret) {
        const char *p;
        unsigned long v;
        char *end;
        bool vcpu;

        if (strneq(s, "hart:", 5))
                vcpu = false;
        else if (strneq(s, "vcpu:", 5))
                vcpu = true;
        else
                return -EINVAL;
        p = s + 5;
        if (!isdigit((unsigned char) *p))
                return -EINVAL;
        errno = 0;
        v = strtoul(p, &end, 10);
        if (errno != 0 || *end || v >= TARGET_VCPU_FLAG)
                return -EINVAL;
        *ret = vcpu ? TARGET_VCPU(v) : TARGET_HART(v);
        return 0;
}

const char *entry_mode_string(const Entry *e) {
        switch (e->kind) {
        case ENTRY_HOST_FILE:
                return RVMSI_MODE_IDENTITY;
        case ENTRY_GUEST_FILE:
                return RVMSI_MODE_GUEST_FILE;
        case ENTRY_MRIF:
                return RVMSI_MODE_MRIF;
        default:
                return RVMSI_MODE_BLOCKED;
        }
}

/* "DDDD:BB:DD.F", lower-case hex, as sysfs and the kernel name PCI functions. */
static bool pci_name_valid(const char *s) {
        static const char pattern[] = "xxxx:xx:xx.x";

        if (strlen(s) != sizeof(pattern) - 1)
                return false;
        for (size_t i = 0; pattern[i]; i++) {
                if (pattern[i] == 'x') {
                        if (!isdigit((unsigned char) s[i]) && !(s[i] >= 'a' && s[i] <= 'f'))
                                return false;
                } else if (s[i] != pattern[i])
                        return false;
        }
        /* device 0..1f, function 0..7 */
        if (s[8] > '1' || s[11] > '7')
                return false;
        return device_name_validate(s) >= 0;
}

/* ---- lifecycle ------------------------------------------------------------------------- */

Manager *manager_free(Manager *m) {
        if (!m)
                return NULL;

        m->irq_watch = irq_watch_free(m->irq_watch);
        m->vfio_watch = vfio_watch_free(m->vfio_watch);
        sd_event_source_disable_unref(m->reconcile_event);
        sd_event_source_disable_unref(m->backend_io);
        sd_event_source_disable_unref(m->watchdog_event);
        sd_event_source_disable_unref(m->save_event);
        sd_event_source_disable_unref(m->sigterm_event);
        sd_event_source_disable_unref(m->sigint_event);
        sd_event_source_disable_unref(m->sighup_event);
        sd_bus_slot_unref(m->name_slot);
        sd_bus_flush_close_unref(m->bus);
        reconciler_free(m->reconciler);
        backend_free(m->backend);
        model_free(m->model);
        policy_free(m->policy);
        device_table_free(m->last_desired);
        sd_event_unref(m->event);
        free(m->config_dir);
        free(m->state_dir);
        free(m->state_path);
        free(m->scenario_path);
        free(m->policy_source);
        free(m->last_error);
        free(m);
        return NULL;
}

static int on_signal_exit(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;

        log_info("Received %s, exiting.", strsignal((int) si->ssi_signo));
        m->exiting = true;
        (void) sd_notify(false, "STOPPING=1");
        return sd_event_exit(m->event, 0);
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        Manager *m = userdata;
        ManagerError e = {};

        log_info("Received SIGHUP, reloading the configuration.");
        (void) sd_notify(false, "RELOADING=1");
        (void) manager_reload(m, &e);
        (void) sd_notify(false, "READY=1");
        return 0;
}

static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata) {
        Manager *m = userdata;
        int r;

        (void) sd_notify(false, "WATCHDOG=1");
        r = sd_event_source_set_time(s, usec + m->watchdog_usec / 2);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(s, SD_EVENT_ON);
}

static void manager_update_status(Manager *m) {
        _cleanup_free_ char *status = NULL;

        /* Not started by systemd (or without Type=notify): sd_notify() would drop it, and building it walks
         * every hart, vCPU and device, after every run. */
        if (!getenv("NOTIFY_SOCKET"))
                return;
        status = manager_status(m);
        if (status)
                (void) sd_notifyf(false, "STATUS=%s", status);
}

int manager_new(const ManagerConfig *config, Manager **ret) {
        _cleanup_(manager_freep) Manager *m = NULL;
        uint64_t wd;
        int r;

        m = new0(Manager, 1);
        if (!m)
                return -ENOMEM;
        m->config = *config;
        m->affinity = config->affinity;

        m->config_dir = strdup(config->config_dir ?: RVMSI_CONFDIR_DEFAULT);
        m->state_dir = strdup(config->state_dir ?: "");
        if (!m->config_dir || !m->state_dir)
                return -ENOMEM;
        if (!isempty(m->state_dir) && asprintf(&m->state_path, "%s/%s", m->state_dir, STATE_FILE_NAME) < 0)
                return -ENOMEM;
        if (config->scenario) {
                m->scenario_path = strdup(config->scenario);
                if (!m->scenario_path)
                        return -ENOMEM;
        }

        r = sd_event_default(&m->event);
        if (r < 0)
                return r;
        r = sd_event_add_signal(m->event, &m->sigterm_event, SIGTERM, on_signal_exit, m);
        if (r < 0)
                return r;
        r = sd_event_add_signal(m->event, &m->sigint_event, SIGINT, on_signal_exit, m);
        if (r < 0)
                return r;
        r = sd_event_add_signal(m->event, &m->sighup_event, SIGHUP, on_sighup, m);
        if (r < 0)
                return r;

        /* Ping at half the watchdog interval, as sd_watchdog_enabled(3) advises. */
        r = sd_watchdog_enabled(false, &wd);
        if (r > 0 && wd > 0) {
                m->watchdog_usec = wd;
                r = sd_event_add_time_relative(m->event, &m->watchdog_event, CLOCK_MONOTONIC, wd / 2, 0,
                                               on_watchdog, m);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(m);
        return 0;
}

/* ---- event plumbing -------------------------------------------------------------------- */

static int on_reconcile(sd_event_source *s, void *userdata) {
        Manager *m = userdata;

        (void) manager_reconcile_now(m);
        return 0;
}

void manager_mark_dirty(Manager *m, DirtyScope scope, const char *key) {
        if (!m->reconciler)
                return;
        (void) reconciler_mark_dirty(m->reconciler, scope, key);
        /* One run per burst: the deferred source runs after every event
         * already queued in this loop iteration has been handled. */
        if (m->reconcile_event)
                (void) sd_event_source_set_enabled(m->reconcile_event, SD_EVENT_ONESHOT);
}

/* Something the state file records changed (VMs, placement, owners, locks):
 * save after the next run. IRQ affinity is not recorded (it is re-read from
 * the kernel), so the bursts of affinity events cost no disk writes. */
static void manager_mark_state_dirty(Manager *m) {
        m->state_dirty = true;
}

/* The backend moved a vCPU: KVM does that all the time, and the placement is
 * learned again from the backend after a restart anyway, so it is written
 * at most once per MANAGER_SAVE_DELAY_USEC instead of with an fsync per burst. */
static void manager_mark_state_dirty_later(Manager *m) {
        m->state_dirty_later = true;
}

/* Cause 273 is the IOMMU's own interrupt MSI failing, not a device's MSI (lib/msi iommu_cmd.h). Its record has
 * TTYP 0 and so DID 0, and its address is the IOMMU's msi_addr_x: a kernel that forwards it as an MSI fault may
 * have matched DID 0 to a device and the address to an interrupt file, and both would be wrong. It is kept as a
 * fault with no device and no target, and logged as what it is. */
static void record_iommu_msi_write_fault(Manager *m, FaultRecord *f) {
        log_fields(LOG_WARNING, 0, &((LogFields) { .reason = "iommu-msi-write" }),
                   "The IOMMU's own MSI write to 0x%" PRIx64 " failed (cause %u): its interrupts are being lost",
                   f->addr, f->cause);
        bus_emit_fault(m, f);
}

static void record_fault(Manager *m, const BackendEvent *ev) {
        bool iommu_own = rvmsi_fault_cause_is_iommu_msi_write(ev->cause);
        FaultRecord *f;
        size_t i;

        i = (m->fault_head + m->n_faults) % MANAGER_N_FAULTS;
        if (m->n_faults == MANAGER_N_FAULTS)
                m->fault_head = (m->fault_head + 1) % MANAGER_N_FAULTS;
        else
                m->n_faults++;
        f = &m->faults[i];
        *f = (FaultRecord) {
                .cause = ev->cause,
                .addr = ev->addr,
                .time = now_realtime_usec(),
        };
        m->fault_count += 1 + ev->suppressed;
        if (iommu_own) {
                record_iommu_msi_write_fault(m, f);
                return;
        }
        strcpy(f->device, ev->device);
        if (ev->has_file) {
                if (ev->file_guest > 0)
                        snprintf(f->target, sizeof(f->target), "hart:%u/guest:%u", ev->file_hart, ev->file_guest);
                else
                        snprintf(f->target, sizeof(f->target), "hart:%u", ev->file_hart);
        }

        log_fields(LOG_WARNING, 0, &((LogFields) { .device = f->device[0] ? f->device : NULL,
                                                   .reason = "msi-fault" }),
                   "Blocked MSI from '%s': cause %u, address 0x%" PRIx64 "%s%s%s",
                   f->device[0] ? f->device : "(unknown requester)", f->cause, f->addr,
                   f->target[0] ? " (" : "", f->target, f->target[0] ? ")" : "");
        bus_emit_fault(m, f);
}

/* The sim is the world: copy what the kernel and /proc would tell us about
 * a device (capabilities, lock, IRQs and their affinity) into our model.
 * Returns true if the model changed. */
static bool sim_refresh_device(Manager *m, const char *name) {
        Sim *sim = backend_sim(m->backend);
        bool changed = false;
        const Device *w;
        Device *d;
        int r;

        if (!sim)
                return false;
        w = model_find_device(sim_world(sim), name);
        d = model_find_device(m->model, name);
        if (!w) {
                if (d && d->owner == OWNER_NONE)
                        return model_remove_device(m->model, name) >= 0;
                return false;
        }
        if (!d) {
                r = model_add_device(m->model, name, w->caps, &d);
                if (r < 0) {
                        log_warning_errno(r, "Cannot add device '%s' to the model: %m", name);
                        return false;
                }
                changed = true;
        }
        if (d->caps != w->caps) {
                (void) model_device_set_caps(m->model, d, w->caps);
                changed = true;
        }
        if (d->locked != w->locked) {
                (void) model_device_set_locked(m->model, d, w->locked);
                changed = true;
        }
        /* Most events are about entries, not IRQs: copy the vectors only when they differ. */
        if (d->nr_vectors != w->nr_vectors ||
            (w->nr_vectors > 0 && memcmp(d->vectors, w->vectors, w->nr_vectors * sizeof(Vector)) != 0)) {
                r = model_device_set_vectors(m->model, d, w->nr_vectors, w->vectors);
                if (r < 0)
                        log_debug_errno(r, "Cannot take the vectors of '%s' from the sim: %m", name);
                else
                        changed = true;
        }
        return changed;
}

/*
 * Does the backend hold exactly what the daemon decided for this device, with the facts (caps, lock) the model
 * has? Then an event about it that changed nothing in the model is an echo of an operation the daemon applied
 * and read back already: a run for it would decide the same, read the same back, plan nothing and leave the
 * device as it is. Costs one read-back of one device; anything else (no decision, not applied, no per-device
 * read-back, a read-back that differs or fails) answers false and the event makes a run as before.
 */
static bool device_confirms_decision(Manager *m, const char *name) {
        const DeviceState *s = manager_device_desired(m, name);
        const Device *d = model_find_device(m->model, name);
        DeviceState a = {};
        bool same;

        if (!s || !d || s->apply_state != APPLY_DONE || !m->backend->ops->dump_device)
                return false;
        if (m->backend->ops->dump_device(m->backend, name, &a) < 0)
                return false;
        same = a.caps == d->caps && a.locked == d->locked && reconcile_device_matches(s, &a);
        device_state_done(&a);
        return same;
}

static void on_backend_event(Backend *b, const BackendEvent *ev, void *userdata) {
        Manager *m = userdata;
        Vm *vm;

        m->last_check.valid = false;

        switch (ev->type) {
        /*
         * The sim answers our own operations synchronously, from inside the
         * reconciler's apply: such an echo that changes nothing in the model
         * needs no new run (the reconciler reads the devices it changed back
         * itself). Without this, every applied plan cost one more, empty run.
         * Kernel events arrive later, on the socket, after the run read the
         * device back: one that changed nothing in the model (the echo of our
         * own DEV_SET, reason MODE) needs no run either if the backend still
         * holds the decision, which one read-back of the device tells.
         */
        case BACKEND_EVENT_ENTRY_CHANGED: {
                bool changed = false;

                if (backend_sim(b))
                        changed = sim_refresh_device(m, ev->device);
                else if (m->irq_watch && ev->reason != RVMSI_REASON_MODE)
                        /* A mode change (the echo of our own DEV_SET) moves no IRQ: no sysfs and
                         * /proc reads for it. IRQ set-up, tear-down and affinity moves re-read. */
                        changed = irq_watch_refresh_device(m->irq_watch, ev->device) != 0;
                if (m->reconciling && !changed && backend_sim(b))
                        break;
                if (!m->reconciling && !changed && device_confirms_decision(m, ev->device))
                        break;
                manager_mark_dirty(m, DIRTY_DEVICE, ev->device);
                break;
        }

        case BACKEND_EVENT_VCPU_CHANGED: {
                bool moved;

                vm = model_find_vm(m->model, ev->vm);
                if (!vm || ev->vcpu >= vm->nr_vcpus)
                        break;
                moved = vm->vcpus[ev->vcpu].hart != ev->hart;
                if (moved) {
                        (void) model_vcpu_place(m->model, vm, ev->vcpu, ev->hart);
                        manager_mark_state_dirty_later(m);
                }
                if (vm->vcpus[ev->vcpu].guest_file != ev->guest)
                        (void) model_vcpu_set_guest_file(m->model, vm, ev->vcpu, ev->guest);
                /* A grant or release we asked for: the reconciler records it too. */
                if (m->reconciling && !moved && backend_sim(b))
                        break;
                manager_mark_dirty(m, DIRTY_VM, vm->uuid);
                break;
        }

        case BACKEND_EVENT_FAULT:
                record_fault(m, ev);
                break;

        case BACKEND_EVENT_OVERFLOW:
                log_warning("Backend events were lost, resynchronizing in full.");
                m->need_resync = true;
                /* A lost event may have been an IRQ move: with affinity from kernel
                 * events, nothing else would ever tell us. */
                if (m->irq_watch)
                        irq_watch_refresh_all(m->irq_watch);
                manager_mark_dirty(m, DIRTY_ALL, NULL);
                break;

        default:
                break;
        }
}

static int on_backend_io(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        Manager *m = userdata;
        int r;

        r = m->backend->ops->process_events(m->backend);
        if (r < 0)
                log_warning_errno(r, "Failed to process backend events: %m");
        return 0;
}

/* Record s as the last emitted decision for its device (a deep copy). */
static int remember_decision(Manager *m, const DeviceState *s) {
        DeviceState c = *s;
        int r;

        if (!m->last_desired) {
                r = device_table_new(&m->last_desired);
                if (r < 0)
                        return r;
        }
        c.entries = NULL;
        if (s->n_entries > 0) {
                c.entries = new(Entry, s->n_entries);
                if (!c.entries)
                        return -ENOMEM;
                memcpy(c.entries, s->entries, s->n_entries * sizeof(Entry));
        }
        r = device_table_put(m->last_desired, &c);
        if (r < 0)
                free(c.entries);
        return r;
}

static bool decision_differs(const DeviceState *old, const DeviceState *s) {
        if (!old)
                return true;
        if (old->mode != s->mode || old->n_entries != s->n_entries || old->reason != s->reason ||
            old->isolation != s->isolation || old->violation != s->violation)
                return true;
        for (uint32_t j = 0; j < s->n_entries; j++)
                if (s->entries[j].target != old->entries[j].target ||
                    !entry_same_destination(&s->entries[j], &old->entries[j]) ||
                    s->entries[j].reason != old->entries[j].reason ||
                    s->entries[j].refcount != old->entries[j].refcount)
                        return true;
        return false;
}

int manager_save_state(Manager *m) {
        _cleanup_(state_freep) State *st = NULL;
        int r;

        if (!m->state_path) {
                /* Nothing is recorded (test mode): nothing waits to be written either. */
                m->state_dirty = m->state_dirty_later = false;
                return 0;
        }
        if (!m->state_dirty && !m->state_dirty_later)
                return 0;
        r = state_capture(m->model, NULL, &st);
        if (r >= 0)
                r = state_save(st, m->state_path);
        if (r < 0)
                return log_error_errno(r, "Failed to save the state to '%s': %m", m->state_path);
        m->last_saved_generation = m->model->generation;
        m->state_dirty = m->state_dirty_later = false;
        if (m->save_event)
                (void) sd_event_source_set_enabled(m->save_event, SD_EVENT_OFF);
        return 1;
}

static int on_save(sd_event_source *s, uint64_t usec, void *userdata) {
        (void) manager_save_state(userdata);
        return 0;
}

/* Arm the delayed save unless it is armed already (the first change of an interval starts it). */
static int manager_arm_save(Manager *m) {
        int enabled = SD_EVENT_OFF, r;

        r = sd_event_source_get_enabled(m->save_event, &enabled);
        if (r < 0 || enabled != SD_EVENT_OFF)
                return r;
        r = sd_event_source_set_time_relative(m->save_event, MANAGER_SAVE_DELAY_USEC);
        if (r < 0)
                return r;
        return sd_event_source_set_enabled(m->save_event, SD_EVENT_ONESHOT);
}

/* Compare one decision of the last run with what was last emitted for its device: log, signal and record it if
 * it changed, and signal a change of whether the backend has it. */
static void note_decision(Manager *m, const DeviceState *s) {
        DeviceState *old = m->last_desired ? device_table_find(m->last_desired, s->name) : NULL;
        int r;

        /*
         * Read back and still not what was decided: the kernel moves identity entries with the IRQs itself, so
         * an IRQ move the daemon missed shows up exactly like this, and no event would come to correct it.
         * Read the device's affinity again; if it moved, the device is marked dirty and decided anew. Once per
         * run, and only for such devices: an unchanged affinity marks nothing.
         */
        if (s->apply_state == APPLY_PENDING && m->irq_watch)
                (void) irq_watch_refresh_device(m->irq_watch, s->name);

        if (!decision_differs(old, s)) {
                /* Only whether the backend has it changed (pending -> applied). */
                if (old->apply_state != s->apply_state || old->apply_error != s->apply_error) {
                        old->apply_state = s->apply_state;
                        old->apply_error = s->apply_error;
                        bus_emit_device_apply_changed(m, s->name);
                }
                return;
        }

        log_fields(LOG_INFO, 0, &((LogFields) { .device = s->name,
                                                .mode = mode_to_string(s->mode),
                                                .reason = reason_to_string(s->reason) }),
                   "Device '%s': mode %s (%s)", s->name, mode_to_string(s->mode), reason_to_string(s->reason));
        r = remember_decision(m, s);
        if (r < 0)
                log_warning_errno(r, "Cannot record the decision for '%s': %m", s->name);
        bus_emit_device_changed(m, s->name, old ? "modes" : "added");
}

static void forget_decision(Manager *m, const char *name) {
        char copy[DEVICE_NAME_MAX];

        if (!m->last_desired || !device_table_find(m->last_desired, name))
                return;
        /* name may point into the table. */
        strcpy(copy, name);
        (void) device_table_remove(m->last_desired, copy);
        bus_emit_device_changed(m, copy, "removed");
}

/*
 * Emit the signals for what the last run changed, and save the state. Only the decisions that changed are logged,
 * signalled and copied, and only the devices the run recomputed (reconciler_last_solved()) are compared: a burst of
 * affinity events on a big host touches few devices, and comparing all 16,384 devices of the largest host after
 * every run cost more than the run itself. A full solve (or the first run) compares everything.
 */
static void manager_after_run(Manager *m) {
        const Desired *d = reconciler_desired(m->reconciler);
        char *const *solved;

        /* A run records the guest files it granted in the model without a new generation. */
        m->last_check.valid = false;

        /* The kernel's entries say which CPU owns each hart; IRQ affinity
         * (a CPU) is only meaningful through that map. */
        if (backend_kernel_sync_hart_cpus(m->backend, m->model) > 0 && m->irq_watch) {
                log_info("Learned the CPU of some harts from the kernel; re-reading IRQ affinity.");
                irq_watch_refresh_all(m->irq_watch);
        }

        solved = reconciler_last_solved(m->reconciler);
        if (d && solved && m->last_desired)
                STRV_FOREACH(name, solved) {
                        const DeviceState *s = device_table_find(&d->devices, *name);

                        if (s)
                                note_decision(m, s);
                        else
                                /* Listed but no longer decided: the run removed it. */
                                forget_decision(m, *name);
                }
        else if (d) {
                for (size_t i = 0; i < d->devices.n_devices; i++)
                        note_decision(m, &d->devices.devices[i]);
                for (size_t i = 0; m->last_desired && i < m->last_desired->n_devices;) {
                        if (device_table_find(&d->devices, m->last_desired->devices[i].name)) {
                                i++;
                                continue;
                        }
                        forget_decision(m, m->last_desired->devices[i].name);
                }
        }

        if (m->state_dirty)
                (void) manager_save_state(m);
        else if (m->state_dirty_later && m->state_path && m->save_event)
                (void) manager_arm_save(m);

        /* Devices the backend must read back (no dump_device) left the reconciler dirty: run again soon. Not
         * after a failure, which waits for the next event (a backend that keeps refusing would spin). */
        if (m->reconcile_event && !m->backend_failed && reconciler_is_dirty(m->reconciler))
                (void) sd_event_source_set_enabled(m->reconcile_event, SD_EVENT_ONESHOT);

        bus_emit_manager_changed(m);
        manager_update_status(m);
}

int manager_reconcile_now(Manager *m) {
        ReconcileStats stats = {};
        int r;

        if (!m->reconciler)
                return 0;
        if (!reconciler_is_dirty(m->reconciler) && !m->state_dirty && !m->need_resync)
                return 0;
        /* This run takes all the dirt of the burst: the deferred run the marks scheduled would find nothing to do
         * (and after a D-Bus call, every call made two runs). manager_after_run() schedules it again if the run
         * leaves something dirty. */
        if (m->reconcile_event)
                (void) sd_event_source_set_enabled(m->reconcile_event, SD_EVENT_OFF);
        m->reconciling = true;
        if (m->need_resync) {
                /* After lost events the backend may differ from anything we
                 * know: solve everything and read the backend back in full. */
                m->need_resync = false;
                r = reconciler_resync(m->reconciler, &stats);
        } else
                r = reconciler_run(m->reconciler, &stats);
        m->reconciling = false;
        m->n_runs++;
        m->n_ops += stats.n_applied;
        if (r < 0) {
                m->backend_failed = true;
                free(m->last_error);
                m->last_error = NULL;
                (void) asprintf(&m->last_error, "reconciler: %s", strerror(-r));
                log_error_errno(r, "Reconciling failed after %zu of %zu operations: %m", stats.n_applied,
                                stats.n_ops);
                /* Something changed under us, or the backend refused: the
                 * next event (or Resync()) reads back what really happened.
                 * Not at once: a backend that keeps refusing would spin. */
                m->need_resync = true;
        } else {
                m->backend_failed = false;
                if (stats.full)
                        m->last_resync = now_realtime_usec();
                if (stats.n_ops > 0)
                        log_debug("Reconciled: %zu operations (%zu revoking), %zu violations", stats.n_ops,
                                  stats.n_revoke, stats.n_violations);
        }
        manager_after_run(m);
        return r;
}

/* ---- the sim as the world -------------------------------------------------------------- */

/* With the sim backend, D-Bus calls stand for what libvirt and KVM would do
 * on a host (create the VM, bind its devices, run its vCPUs): tell the
 * sim's world, which answers with the events the kernel would send. */
static void sim_mirror_vm(Manager *m, const Vm *vm) {
        Sim *sim = backend_sim(m->backend);
        int r;

        if (!sim)
                return;
        r = sim_add_vm(sim, vm->uuid, vm->name, vm->nr_vcpus);
        if (r < 0 && r != -EEXIST) {
                log_warning_errno(r, "sim: cannot add VM '%s': %m", vm->name);
                return;
        }
        (void) sim_vm_set_state(sim, vm->uuid, vm->state);
        if (!vm_state_is_active(vm->state))
                return;
        for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
                uint32_t hart = model_vcpu_pin_plan_hart(m->model, vm, i);

                if (hart == NO_HART)
                        hart = vm->vcpus[i].hart;

                if (hart != NO_HART)
                        (void) sim_vcpu_move(sim, vm->uuid, i, hart);
        }
}

static void sim_mirror_device_owner(Manager *m, const Device *d) {
        Sim *sim = backend_sim(m->backend);
        int r;

        if (!sim)
                return;
        if (!model_find_device(sim_world(sim), d->name)) {
                r = sim_add_device(sim, d->name, d->caps);
                if (r < 0 && r != -EEXIST)
                        return;
        }
        r = sim_device_set_owner(sim, d->name, d->owner,
                                 d->owner == OWNER_VM ? d->owner_vm : d->owner_label);
        if (r < 0)
                log_debug_errno(r, "sim: cannot set the owner of '%s': %m", d->name);
}

/* Pinned vCPUs of an active VM can only run on a hart of their pinning: plan
 * them there (docs/solver.md, "Pinning") until the backend says where they run. */
static void place_pinned_in(Model *model, Vm *vm) {
        for (uint32_t i = 0; i < vm->nr_vcpus; i++) {
                uint32_t h = model_vcpu_pin_plan_hart(model, vm, i);

                if (h != NO_HART && vm->vcpus[i].hart != h)
                        (void) model_vcpu_place(model, vm, i, h);
        }
}

static void place_pinned(Manager *m, Vm *vm) {
        place_pinned_in(m->model, vm);
}

/* ---- startup --------------------------------------------------------------------------- */

/* Takes both p and source (heap): cannot fail, so callers allocate everything before they change anything. */
static void set_policy(Manager *m, Policy *p, char *source) {
        policy_free(m->policy);
        m->policy = p;
        free(m->policy_source);
        m->policy_source = source;
        m->policy_generation++;
        manager_mark_dirty(m, DIRTY_POLICY, NULL);
        bus_emit_changed(m, "policy", "", "policy");
}

/* Load config_dir/policy.json. 1: loaded into *ret; 0: no file; <0: invalid (logged). */
static int load_config_policy(Manager *m, Policy **ret, char **ret_path, ManagerError *e) {
        _cleanup_free_ char *path = NULL;
        char buf[1024];
        JsonError je = {};
        int r;

        if (asprintf(&path, "%s/%s", m->config_dir, POLICY_FILE_NAME) < 0)
                return -ENOMEM;
        r = policy_load_file(path, ret, &je);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                json_error_format(&je, buf, sizeof(buf));
                log_fields(LOG_ERR, r, &((LogFields) { .reason = "policy-invalid" }),
                           "Invalid policy, keeping the last good one: %s", buf);
                return manager_error_set(e, MERR_POLICY_INVALID, r, "%s", buf);
        }
        *ret_path = TAKE_PTR(path);
        return 1;
}

static int manager_open_backend(Manager *m, Scenario **ret_scenario) {
        _cleanup_(scenario_freep) Scenario *sc = NULL;
        Geometry g;
        JsonError je = {};
        char buf[1024];
        int r;

        if (m->config.backend == BACKEND_KIND_KERNEL) {
                r = backend_new(&backend_kernel_ops, NULL, &m->backend);
                if (r == -EPROTONOSUPPORT)
                        return log_error_errno(r, "The kernel has no 'rvmsi' generic netlink family: the rvmsi "
                                               "kernel part is not loaded (or not built). rvmsid cannot manage MSI "
                                               "tables without it. To run on the simulator instead, start "
                                               "rvmsid with --backend=sim.");
                if (r == -ENOENT)
                        return log_error_errno(r, "The kernel's rvmsi family has no 'events' group: kernel and "
                                               "daemon versions do not match.");
                if (r < 0)
                        return log_error_errno(r, "Failed to open the kernel backend: %m");
                r = backend_get_geometry(m->backend, &g);
                if (r < 0)
                        return log_error_errno(r, "Failed to read the IMSIC geometry from the kernel: %m");
                r = model_new(&g, &m->model);
                if (r < 0)
                        return log_error_errno(r, "Failed to create the model: %m");
                r = policy_new_default(&m->policy);
                if (r < 0)
                        return r;
                m->policy_source = strdup("builtin");
                if (m->affinity < 0)
                        m->affinity = AFFINITY_SOURCE_KERNEL_EVENTS;
                *ret_scenario = NULL;
                return 0;
        }

        if (m->scenario_path) {
                r = scenario_load_file(m->scenario_path, &sc, &je);
                if (r < 0)
                        return log_error_errno(r, "Invalid scenario: %s", json_error_format(&je, buf, sizeof(buf)));
                r = scenario_setup(sc, &m->backend, &m->model, &m->policy, &je);
                if (r < 0)
                        return log_error_errno(r, "Cannot set up scenario '%s': %s", m->scenario_path,
                                               json_error_format(&je, buf, sizeof(buf)));
                m->policy_source = strdup("scenario");
        } else {
                r = backend_new(&backend_sim_ops, m->config.sim_geometry, &m->backend);
                if (r < 0)
                        return log_error_errno(r, "Failed to create the sim backend%s%s: %m",
                                               m->config.sim_geometry ? " with " : "",
                                               strempty(m->config.sim_geometry));
                r = backend_get_geometry(m->backend, &g);
                if (r < 0)
                        return log_error_errno(r, "Failed to read the sim's geometry: %m");
                r = model_new(&g, &m->model);
                if (r < 0)
                        return log_error_errno(r, "Failed to create the model: %m");
                r = policy_new_default(&m->policy);
                if (r < 0)
                        return r;
                m->policy_source = strdup("builtin");
        }
        if (!m->policy_source)
                return -ENOMEM;
        /* The sim world is the truth for placement and affinity; /proc is not. */
        m->affinity = AFFINITY_SOURCE_SIM;
        *ret_scenario = TAKE_PTR(sc);
        return 0;
}

static void manager_load_state(Manager *m) {
        _cleanup_(state_freep) State *st = NULL;
        StateLoadReport report = {};
        char buf[1024];
        int r;

        if (!m->state_path)
                return;
        r = state_load(m->state_path, &st, &report);
        if (r < 0) {
                log_error_errno(r, "Cannot read the state file '%s', starting from the kernel's state: %m",
                                m->state_path);
                m->degraded = true;
                return;
        }
        if (report.corrupt)
                log_error("State file '%s' is corrupt (%s); moved aside to '%s', rebuilding from the backend.",
                          m->state_path, json_error_format(&report.error, buf, sizeof(buf)), report.moved_to);
        if (!st)
                return;
        r = state_apply(st, m->model, m->policy);
        if (r < 0) {
                log_error_errno(r, "Cannot apply the saved state: %m");
                return;
        }
        if (r > 0)
                log_warning("%d entries of the saved state do not fit this host and were dropped.", r);
        log_info("Restored %zu VMs and %zu devices from '%s'.", st->n_vms, st->n_devices, m->state_path);

        /* Bring the world in line with what we knew (sim), and place the
         * pinned vCPUs of active VMs. */
        for (size_t i = 0; i < m->model->n_vms; i++) {
                Vm *vm = m->model->vms[i];

                if (vm_state_is_active(vm->state))
                        place_pinned(m, vm);
                sim_mirror_vm(m, vm);
        }
        for (size_t i = 0; i < m->model->n_devices; i++)
                if (m->model->devices[i]->owner != OWNER_NONE)
                        sim_mirror_device_owner(m, m->model->devices[i]);
}

int manager_startup(Manager *m) {
        _cleanup_(scenario_freep) Scenario *sc = NULL;
        _cleanup_free_ char *path = NULL;
        ManagerError e = {};
        Policy *p = NULL;
        int r, fd;

        r = manager_open_backend(m, &sc);
        if (r < 0)
                return r;
        backend_set_handler(m->backend, on_backend_event, m);
        m->policy_generation = 1;

        r = load_config_policy(m, &p, &path, &e);
        if (r > 0) {
                policy_free(m->policy);
                m->policy = p;
                free(m->policy_source);
                m->policy_source = TAKE_PTR(path);
        } else if (r < 0) {
                m->reload_failed = true;
                free(m->last_error);
                m->last_error = strdup(e.message);
        }
        /* A policy set over D-Bus outlives a restart until the next Reload. */
        if (!isempty(m->state_dir)) {
                _cleanup_free_ char *dpath = NULL;
                JsonError je = {};

                if (asprintf(&dpath, "%s/%s", m->state_dir, DBUS_POLICY_FILE_NAME) < 0)
                        return -ENOMEM;
                r = policy_load_file(dpath, &p, &je);
                if (r >= 0) {
                        policy_free(m->policy);
                        m->policy = p;
                        free(m->policy_source);
                        m->policy_source = strdup("dbus");
                } else if (r != -ENOENT) {
                        char buf[1024];

                        log_error("Ignoring the saved D-Bus policy: %s", json_error_format(&je, buf, sizeof(buf)));
                }
        }

        manager_load_state(m);

        r = reconciler_new(m->model, &m->policy, m->backend, &m->reconciler);
        if (r < 0)
                return log_error_errno(r, "Failed to create the reconciler: %m");

        r = sd_event_add_defer(m->event, &m->reconcile_event, on_reconcile, m);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(m->reconcile_event, SD_EVENT_OFF);
        (void) sd_event_source_set_description(m->reconcile_event, "reconcile");

        r = sd_event_add_time_relative(m->event, &m->save_event, CLOCK_MONOTONIC, MANAGER_SAVE_DELAY_USEC, 0,
                                       on_save, m);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(m->save_event, SD_EVENT_OFF);
        (void) sd_event_source_set_description(m->save_event, "save-state");

        if (m->backend->ops->get_event_fd && (fd = m->backend->ops->get_event_fd(m->backend)) >= 0) {
                r = sd_event_add_io(m->event, &m->backend_io, fd, EPOLLIN, on_backend_io, m);
                if (r < 0)
                        return r;
                (void) sd_event_source_set_description(m->backend_io, "backend-events");
        }

        if (m->config.backend == BACKEND_KIND_KERNEL) {
                r = irq_watch_new(m, m->affinity == AFFINITY_SOURCE_PROC_POLL, &m->irq_watch);
                if (r < 0)
                        log_warning_errno(r, "Cannot watch IRQ affinity: %m");
                r = vfio_watch_new(m, &m->vfio_watch);
                if (r < 0)
                        log_warning_errno(r, "Cannot watch vfio-pci devices: %m");
        }

        r = reconciler_resync(m->reconciler, NULL);
        if (r < 0) {
                log_error_errno(r, "Initial resync failed: %m");
                m->backend_failed = true;
        } else
                m->last_resync = now_realtime_usec();

        if (sc) {
                size_t n = scenario_n_steps(sc);

                for (size_t i = 0; i < n; i++) {
                        JsonError je = {};
                        char buf[1024];

                        r = scenario_step(sc, i, m->backend, m->model, m->reconciler, &je);
                        if (r < 0)
                                log_warning("Scenario step %zu: %s", i, json_error_format(&je, buf, sizeof(buf)));
                        r = reconciler_run(m->reconciler, NULL);
                        if (r < 0)
                                log_warning_errno(r, "Scenario step %zu: reconciling failed: %m", i);
                }
                log_info("Ran %zu scenario steps from '%s'.", n, m->scenario_path);
        }

        m->state_dirty = true;
        manager_after_run(m);
        return 0;
}

int manager_run(Manager *m) {
        int r;

        manager_update_status(m);
        (void) sd_notify(false, "READY=1");
        r = sd_event_loop(m->event);
        (void) sd_notify(false, "STOPPING=1");
        /* Placement waiting for the delayed save is not lost on a clean exit. */
        (void) manager_save_state(m);
        return r;
}

/* ---- mutating operations --------------------------------------------------------------- */

int manager_reload(Manager *m, ManagerError *e) {
        _cleanup_free_ char *path = NULL, *dpath = NULL;
        Policy *p = NULL;
        int r;

        r = load_config_policy(m, &p, &path, e);
        if (r < 0) {
                m->reload_failed = true;
                free(m->last_error);
                m->last_error = strdup(e ? e->message : "invalid policy");
                manager_update_status(m);
                bus_emit_manager_changed(m);
                return r;
        }
        if (r == 0) {
                r = policy_new_default(&p);
                if (r < 0)
                        return manager_error_set(e, MERR_POLICY_INVALID, r, "cannot build the default policy");
                path = strdup("builtin");
                if (!path) {
                        policy_free(p);
                        return -ENOMEM;
                }
        }
        /* The configuration is the administrator's word again: forget a
         * policy set over D-Bus. */
        if (!isempty(m->state_dir) && asprintf(&dpath, "%s/%s", m->state_dir, DBUS_POLICY_FILE_NAME) >= 0)
                (void) unlink(dpath);

        m->reload_failed = false;
        m->last_error = mfree(m->last_error);
        set_policy(m, p, TAKE_PTR(path));
        log_info("Policy loaded from '%s' (generation %" PRIu64 ").", m->policy_source, m->policy_generation);
        (void) manager_reconcile_now(m);
        return 0;
}

/* A policy document from SetPolicy() or CheckPolicy(): bounded, then validated completely. */
static int parse_dbus_policy(const char *json, Policy **ret, ManagerError *e) {
        size_t len = strlen(json);
        JsonError je = {};
        char buf[1024];
        int r;

        if (len > JSON_ARG_MAX)
                return manager_error_set(e, MERR_POLICY_INVALID, -EFBIG, "policy larger than %d bytes", JSON_ARG_MAX);
        r = policy_parse_buffer(json, len, "dbus", ret, &je);
        if (r < 0)
                return manager_error_set(e, MERR_POLICY_INVALID, r, "%s", json_error_format(&je, buf, sizeof(buf)));
        return 0;
}

int manager_set_policy(Manager *m, bool apply, const char *json, ManagerError *e) {
        _cleanup_(policy_freep) Policy *p = NULL;
        _cleanup_free_ char *dpath = NULL, *source = NULL;
        int r;

        r = parse_dbus_policy(json, &p, e);
        if (r < 0)
                return r;
        if (!apply)
                return 0;

        /* Everything that can fail before the file is written: after it, nothing may. */
        source = strdup("dbus");
        if (!source)
                return -ENOMEM;
        if (!isempty(m->state_dir)) {
                _cleanup_json_ json_object *j = NULL;
                _cleanup_free_ char *text = NULL;

                if (asprintf(&dpath, "%s/%s", m->state_dir, DBUS_POLICY_FILE_NAME) < 0)
                        return -ENOMEM;
                r = policy_to_json(p, &j);
                if (r >= 0)
                        r = json_to_string_pretty(j, &text);
                if (r >= 0)
                        r = write_file_atomic(dpath, text, strlen(text), 0644);
                if (r < 0)
                        return manager_error_set(e, MERR_BACKEND_FAILED, r, "cannot record the policy in '%s': %s",
                                                 dpath, strerror(-r));
        }
        set_policy(m, TAKE_PTR(p), TAKE_PTR(source));
        log_info("Policy replaced over D-Bus (generation %" PRIu64 ").", m->policy_generation);
        (void) manager_reconcile_now(m);
        return 0;
}

int manager_resync(Manager *m, ManagerError *e) {
        ReconcileStats stats = {};
        int r;

        m->reconciling = true;
        r = reconciler_resync(m->reconciler, &stats);
        m->reconciling = false;
        m->n_ops += stats.n_applied;
        if (r < 0) {
                m->backend_failed = true;
                manager_after_run(m);
                return manager_error_set(e, r == -ENODEV || r == -ENOTCONN ? MERR_BACKEND_UNAVAILABLE :
                                         MERR_BACKEND_FAILED, r, "resync failed after %zu of %zu operations: %s",
                                         stats.n_applied, stats.n_ops, strerror(-r));
        }
        m->backend_failed = false;
        m->last_resync = now_realtime_usec();
        log_info("Resynchronized: %zu operations.", stats.n_ops);
        bus_emit_changed(m, "host", "", "resync");
        manager_after_run(m);
        return 0;
}

int manager_simulate_msi(Manager *m, bool apply, const char *device, uint32_t group, uint32_t hart, uint32_t guest,
                         uint32_t identity, const char **ret_outcome, uint32_t *ret_cause, ManagerError *e) {
        Sim *sim = backend_sim(m->backend);
        const Geometry *g = &m->model->geometry;
        SimMsiResult res = {};
        uint64_t addr;
        int r;

        if (!pci_name_valid(device))
                return manager_error_set(e, MERR_INVALID_ARGUMENT, -EINVAL,
                                         "invalid PCI address '%s' (expected DDDD:BB:DD.F, lower-case hex)", device);
        if (group >= g->nr_groups)
                return manager_error_set(e, MERR_INVALID_ARGUMENT, -EINVAL, "group %u is out of range 0-%u", group,
                                         g->nr_groups - 1);
        if (hart >= geometry_harts_per_group(g))
                return manager_error_set(e, MERR_INVALID_ARGUMENT, -EINVAL, "hart %u is out of range 0-%u", hart,
                                         geometry_harts_per_group(g) - 1);
        if (guest > g->nr_guest_files)
                return manager_error_set(e, MERR_INVALID_ARGUMENT, -EINVAL,
                                         "guest file %u is out of range 0-%u (0: the S-level file)", guest,
                                         g->nr_guest_files);
        /* Nothing to write with on a real host: the kernel has no such operation, by design. */
        if (!sim)
                return manager_error_set(e, MERR_NOT_SUPPORTED, -EOPNOTSUPP,
                                         "SimulateMSI() needs the sim backend; this rvmsid runs on '%s'",
                                         backend_name(m->backend));
        if (!model_find_device(sim_world(sim), device))
                return manager_error_set(e, MERR_NO_SUCH_DEVICE, -ENODEV, "the simulated host has no device '%s'",
                                         device);
        r = sim_file_addr(sim, device, group, hart, guest, &addr);
        if (r < 0)
                return manager_error_set(e, MERR_INVALID_ARGUMENT, r, "no address for group %u hart %u guest %u: %s",
                                         group, hart, guest, strerror(-r));
        if (!apply)
                return 0;

        r = sim_msi_write(sim, device, addr, identity, &res);
        if (r < 0)
                return manager_error_set(e, MERR_BACKEND_FAILED, r, "the write failed: %s", strerror(-r));
        log_fields(LOG_INFO, 0, &((LogFields) { .device = device }),
                   "Simulated MSI from '%s' to group %u hart %u guest %u, identity %u: %s.", device, group, hart,
                   guest, identity, sim_msi_outcome_to_string(res.outcome));
        /* FaultCount may have changed. */
        bus_emit_manager_changed(m);
        *ret_outcome = sim_msi_outcome_to_string(res.outcome);
        *ret_cause = res.outcome == SIM_MSI_FAULT ? res.cause : 0;
        return 0;
}

static int cmp_u32(const void *a, const void *b) {
        uint32_t x = *(const uint32_t *) a, y = *(const uint32_t *) b;

        return CMP(x, y);
}

static bool vm_name_ok(const char *name) {
        size_t n = strlen(name);

        if (n == 0 || n > 64 || name[0] == '.' || name[0] == '-')
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char) name[i]) && !strchr("._+-", name[i]))
                        return false;
        return vm_name_validate(name) >= 0;
}

/*
 * Would the VM leave a requirement of its class unmet after a change (activation to state, or attaching the
 * device attach)? Decided on a scratch model that holds only what decides the VM's devices: the VM as it will be,
 * its devices (and the one being attached), and every other vCPU placed on a hart where one of the VM's vCPUs will
 * be. A device's decision depends only on the device, its VM and that VM's vCPU grants, and the grants on a hart
 * only on the vCPUs placed there and the hart's reserved files (solver.h), so solving this model gives the VM's
 * devices exactly the decisions a solve of a full copy of the model would give them: the same answer, the same
 * explanation, at a cost that grows with the VM and its neighbours, not with the host (a full copy and solve was
 * about 125 ms per pass at 4,096 harts and 16,384 devices).
 */
static int scratch_add_vm(Model *s, const Vm *src, Vm **ret) {
        Vm *vm;
        int r;

        vm = model_find_vm(s, src->uuid);
        if (!vm) {
                r = model_add_vm(s, src->uuid, src->name, src->nr_vcpus, &vm);
                if (r < 0)
                        return r;
                /* As model_copy() does, so the check and a full solve read the same VM. */
                vm_copy_attributes(vm, src);
        }
        *ret = vm;
        return 0;
}

static int scratch_place(Model *s, Vm *vm, uint32_t vcpu, uint32_t hart, uint8_t guest_file) {
        int r;

        r = model_vcpu_place(s, vm, vcpu, hart);
        if (r < 0)
                return r;
        vm->vcpus[vcpu].guest_file = guest_file;
        return 0;
}

static int scratch_add_device(Model *s, const char *name, uint64_t caps, bool locked, uint32_t nr_vectors,
                              const Vector *vectors, const char *uuid) {
        Device *d;
        int r;

        r = model_add_device(s, name, caps, &d);
        if (r < 0)
                return r;
        r = model_device_set_owner(s, d, OWNER_VM, uuid);
        if (r < 0)
                return r;
        d->locked = locked;
        return model_device_set_vectors(s, d, nr_vectors, vectors);
}

static int cmp_u32(const void *a, const void *b);

static int vm_scratch_model(Manager *m, const Vm *vm, VmState state, bool activate, const char *attach,
                            ManagerError *e, Model **ret) {
        _cleanup_(model_freep) Model *s = NULL;
        _cleanup_free_ uint32_t *harts = NULL;
        size_t n_harts = 0;
        Vm *svm;
        int r;

        r = model_new(&m->model->geometry, &s);
        if (r < 0)
                return r;
        r = scratch_add_vm(s, vm, &svm);
        if (r < 0)
                return r;
        svm->state = state;

        /* Where the VM's vCPUs will be: an activation plans pinned vCPUs on their hart (place_pinned()), and
         * model_vcpu_place() gives up the guest file of a vCPU that moves. */
        harts = new(uint32_t, vm->nr_vcpus);
        if (!harts)
                return -ENOMEM;
        for (uint32_t v = 0; v < vm->nr_vcpus; v++) {
                uint32_t hart = vm->vcpus[v].hart;
                uint32_t plan = activate ? model_vcpu_pin_plan_hart(m->model, vm, v) : NO_HART;
                uint8_t gf = vm->vcpus[v].guest_file;

                if (plan != NO_HART && plan != hart) {
                        hart = plan;
                        gf = 0;
                }
                r = scratch_place(s, svm, v, hart, gf);
                if (r < 0)
                        return manager_error_set(e, MERR_INVALID_TRANSITION, r, "cannot change state: %s",
                                                 strerror(-r));
                if (hart != NO_HART)
                        harts[n_harts++] = hart;
        }
        qsort(harts, n_harts, sizeof(uint32_t), cmp_u32);

        /* Everyone else on those harts competes for their guest files. */
        for (size_t i = 0; i < n_harts; i++) {
                const Hart *h = &m->model->harts[harts[i]];

                if (i > 0 && harts[i] == harts[i - 1])
                        continue;
                s->harts[harts[i]].reserved_files = h->reserved_files;
                for (uint32_t k = 0; k < h->n_residents; k++) {
                        const Vm *o = h->residents[k].vm;
                        uint32_t ov = h->residents[k].vcpu;
                        Vm *so;

                        if (o == vm)
                                continue;       /* placed above, where it will be */
                        r = scratch_add_vm(s, o, &so);
                        if (r < 0)
                                return r;
                        r = scratch_place(s, so, ov, harts[i], o->vcpus[ov].guest_file);
                        if (r < 0)
                                return r;
                }
        }

        for (size_t i = 0; i < vm->n_devices; i++) {
                const Device *d = vm->devices[i];

                r = scratch_add_device(s, d->name, d->caps, d->locked, d->nr_vectors, d->vectors, vm->uuid);
                if (r < 0)
                        return r;
        }
        if (attach) {
                /* Owned by no VM now (the caller checked): its vectors have no vCPU route to carry over. */
                const Device *d = model_find_device(m->model, attach);

                r = d ? scratch_add_device(s, attach, d->caps, d->locked, d->nr_vectors, d->vectors, vm->uuid) :
                        scratch_add_device(s, attach, 0, false, 0, NULL, vm->uuid);
                if (r < 0)
                        return manager_error_set(e, MERR_INVALID_ARGUMENT, r, "cannot attach '%s': %s", attach,
                                                 strerror(-r));
        }
        *ret = TAKE_PTR(s);
        return 0;
}

static int check_vm_satisfiable_now(Manager *m, const Vm *vm, VmState state, bool activate, const char *attach,
                                    ManagerError *e) {
        _cleanup_(desired_freep) Desired *d = NULL;
        _cleanup_(model_freep) Model *s = NULL;
        const Vm *svm;
        int r;

        /* Only a device can leave a requirement unmet. */
        if (vm->n_devices == 0 && !attach)
                return 0;
        r = vm_scratch_model(m, vm, state, activate, attach, e, &s);
        if (r < 0)
                return r;
        r = solver_compute(s, m->policy, &d);
        if (r < 0)
                return manager_error_set(e, MERR_INVALID_ARGUMENT, r, "cannot solve: %s", strerror(-r));
        svm = model_find_vm(s, vm->uuid);
        /* By name, as the model keeps them: the first unmet device is the one reported. */
        for (size_t i = 0; svm && i < svm->n_devices; i++) {
                const Device *dev = svm->devices[i];
                const DeviceState *ds = device_table_find(&d->devices, dev->name);

                if (ds && ds->violation) {
                        _cleanup_free_ char *text = NULL;

                        (void) solver_explain(s, m->policy, ds, NULL, &text);
                        return manager_error_set(e, MERR_ISOLATION_UNSATISFIABLE, -EPERM,
                                                 "device '%s' of VM '%s': %s", dev->name, vm->uuid,
                                                 text ?: reason_describe(ds->reason));
                }
        }
        return 0;
}

static bool last_check_matches(Manager *m, const Vm *vm, VmState state, bool activate, const char *attach) {
        return m->last_check.valid && m->last_check.generation == m->model->generation &&
                m->last_check.policy_generation == m->policy_generation && streq(m->last_check.uuid, vm->uuid) &&
                m->last_check.state == state && m->last_check.activate == activate &&
                streq(m->last_check.attach, strempty(attach));
}

/* The apply pass of a call asks what its validation pass just asked, of the same model: answer it again. */
static int check_vm_satisfiable(Manager *m, const Vm *vm, VmState state, bool activate, const char *attach,
                                ManagerError *e) {
        int r;

        if (last_check_matches(m, vm, state, activate, attach)) {
                if (e && m->last_check.r < 0)
                        *e = m->last_check.e;
                return m->last_check.r;
        }
        m->last_check.valid = false;
        m->last_check.e = (ManagerError) {};
        r = check_vm_satisfiable_now(m, vm, state, activate, attach, &m->last_check.e);
        if (e && r < 0)
                *e = m->last_check.e;
        /* An error of our own (out of memory) is not an answer to keep. */
        if (r >= 0 || m->last_check.e.code == MERR_ISOLATION_UNSATISFIABLE) {
                m->last_check.valid = true;
                m->last_check.generation = m->model->generation;
                m->last_check.policy_generation = m->policy_generation;
                strcpy(m->last_check.uuid, vm->uuid);
                m->last_check.state = state;
                m->last_check.activate = activate;
                strcpy(m->last_check.attach, strempty(attach));
                m->last_check.r = r;
        }
        return r;
}

int manager_register_vm(Manager *m, bool apply, const char *name, const char *uuid_in, uint32_t vcpus,
                        const PinSpec *pins, size_t n_pins, const char *klass, int32_t priority,
                        ManagerError *e) {
        char uuid[UUID_STRING_MAX];
        _cleanup_free_ const PinSpec **pin_of = NULL;
        IsolationClass k = _CLASS_INVALID;
        Vm *vm, *other;
        int r;

        if (!vm_name_ok(name))
                return manager_error_set(e, MERR_INVALID_ARGUMENT, -EINVAL,
                                         "invalid VM name '%s': 1-64 of [A-Za-z0-9._+-], not starting with '.' or '-'",
                                         name);
        if (uuid_normalize(uuid_in, uuid) < 0)
                return manager_error_set(e, MERR_INVALID_ARGUMENT, -EINVAL, "invalid UUID '%s'", uuid_in);
        if (vcpus < 1 || vcpus > 1024 || vcpus > VM_MAX_VCPUS)
                return manager_error_set(e, MERR_INVALID_ARGUMENT, -EINVAL, "vcpus %u is out of range 1-1024",
                                         vcpus);
        if (!isempty(klass)) {
                k = isolation_class_from_string(klass);
                if (k < 0)
                        return manager_error_set(e, MERR_INVALID_ARGUMENT, -EINVAL,
                                                 "unknown isolation class '%s' (strict, balanced, performance or \"\")",
                                                 klass);
        }
        if (priority < POLICY_PRIORITY_MIN || priority > POLICY_PRIORITY_MAX)
                return manager_error_set(e, MERR_INVALID_ARGUMENT, -EINVAL, "priority %d is out of range %d-%d",
                                         priority, POLICY_PRIORITY_MIN, POLICY_PRIORITY_MAX);

        /* Each vCPU's pinning, by vCPU: what RegisterVM() got, kept as registered. */
        pin_of = new(const PinSpec *, vcpus);
        if (!pin_of)
                return -ENOMEM;
        for (uint32_t i = 0; i < vcpus; i++)
                pin_of[i] = NULL;
        for (size_t i = 0; i < n_pins; i++) {
                const PinSpec *p = &pins[i];

                if (p->vcpu >= vcpus)
                        return manager_error_set(e, MERR_INVALID_ARGUMENT, -EINVAL,
                                                 "pinning: vCPU %u does not exist (the VM has %u)", p->vcpu, vcpus);
                if (pin_of[p->vcpu])
                        return manager_error_set(e, MERR_INVALID_ARGUMENT, -EINVAL,
                                                 "pinning: vCPU %u is listed twice", p->vcpu);
                pin_of[p->vcpu] = p;
                /* Bounded before anything costs: at most every CPU once. */
                if (p->n_cpus > m->model->geometry.nr_harts)
                        return manager_error_set(e, MERR_INVALID_ARGUMENT, -EINVAL,
                                                 "pinning: vCPU %u lists %zu CPUs, the host has %u", p->vcpu,
                                                 p->n_cpus, m->model->geometry.nr_harts);
                for (size_t c = 0; c < p->n_cpus; c++) {
                        uint32_t hart;

                        if (p->cpus[c] > INT32_MAX ||
                            model_hart_by_cpu(m->model, (int32_t) p->cpus[c], &hart) < 0)
                                return manager_error_set(e, MERR_INVALID_ARGUMENT, -EINVAL,
                                                         "pinning: CPU %u of vCPU %u is not a CPU of this host",
                                                         p->cpus[c], p->vcpu);
                }
                if (p->n_cpus > 1) {
                        _cleanup_free_ uint32_t *sorted = new(uint32_t, p->n_cpus);

                        if (!sorted)
                                return -ENOMEM;
                        memcpy(sorted, p->cpus, p->n_cpus * sizeof(uint32_t));
                        qsort(sorted, p->n_cpus, sizeof(uint32_t), cmp_u32);
                        for (size_t c = 1; c < p->n_cpus; c++)
                                if (sorted[c] == sorted[c - 1])
                                        return manager_error_set(e, MERR_INVALID_ARGUMENT, -EINVAL,
                                                                 "pinning: CPU %u is listed twice for vCPU %u",
                                                                 sorted[c], p->vcpu);
                }
        }

        vm = model_find_vm(m->model, uuid);
        other = model_find_vm_by_name(m->model, name);
        if (other && other != vm)
                return manager_error_set(e, MERR_EXISTS, -EEXIST, "VM name '%s' is used by VM %s", name, other->uuid);
        if (vm && !streq(vm->name, name))
                return manager_error_set(e, MERR_EXISTS, -EEXIST, "VM %s is registered as '%s', not '%s'", uuid,
                                         vm->name, name);
        if (vm && vm->nr_vcpus != vcpus && vm_state_is_active(vm->state))
                return manager_error_set(e, MERR_BUSY, -EBUSY,
                                         "VM '%s' is %s with %u vCPUs; stop it before changing that to %u", name,
                                         vm_state_to_string(vm->state), vm->nr_vcpus, vcpus);
        if (!apply)
                return 0;

        if (vm && vm->nr_vcpus != vcpus) {
                /* Not active: re-create with the new size; its devices keep
                 * their owner and are resolved again by UUID. */
                r = model_remove_vm(m->model, uuid);
                if (r < 0)
                        return manager_error_set(e, MERR_INVALID_ARGUMENT, r, "cannot resize: %s", strerror(-r));
                vm = NULL;
                if (backend_sim(m->backend))
                        (void) sim_remove_vm(backend_sim(m->backend), uuid);
        }
        if (!vm) {
                r = model_add_vm(m->model, uuid, name, vcpus, &vm);
                if (r < 0)
                        return manager_error_set(e, MERR_INVALID_ARGUMENT, r, "cannot register: %s", strerror(-r));
        }
        (void) model_vm_set_class(m->model, vm, k);
        (void) model_vm_set_priority(m->model, vm, priority != 0, priority);
        for (uint32_t i = 0; i < vcpus; i++) {
                const PinSpec *p = pin_of[i];

                r = model_vcpu_set_pin_cpus(m->model, vm, i, p ? p->cpus : NULL, p ? (uint32_t) p->n_cpus : 0);
                if (r < 0)
                        /* Only -ENOMEM gets here: every CPU was checked above. */
                        log_warning_errno(r, "Cannot record the pinning of vCPU %u of '%s': %m", i, name);
        }
        if (vm_state_is_active(vm->state))
                place_pinned(m, vm);
        sim_mirror_vm(m, vm);

        log_fields(LOG_INFO, 0, &((LogFields) { .vm = vm->uuid }), "Registered VM '%s' (%s), %u vCPUs, class %s.",
                   name, uuid, vcpus, isempty(klass) ? "default" : klass);
        manager_mark_state_dirty(m);
        manager_mark_dirty(m, DIRTY_VM, uuid);
        bus_emit_vm_changed(m, uuid, "added");
        (void) manager_reconcile_now(m);
        return 0;
}

/* Devices of a VM that goes away become nobody's: blocked. */
static void release_vm_devices(Manager *m, Vm *vm) {
        for (size_t i = 0; i < m->model->n_devices; i++) {
                Device *d = m->model->devices[i];

                if (d->owner == OWNER_VM && streq(d->owner_vm, vm->uuid)) {
                        (void) model_device_set_owner(m->model, d, OWNER_NONE, NULL);
                        sim_mirror_device_owner(m, d);
                        manager_mark_state_dirty(m);
                        manager_mark_dirty(m, DIRTY_DEVICE, d->name);
                }
        }
}

static int remove_vm(Manager *m, Vm *vm) {
        char uuid[UUID_STRING_MAX];
        int r;

        strcpy(uuid, vm->uuid);
        release_vm_devices(m, vm);
        r = model_remove_vm(m->model, uuid);
        if (r < 0)
                return r;
        if (backend_sim(m->backend))
                (void) sim_remove_vm(backend_sim(m->backend), uuid);
        log_fields(LOG_INFO, 0, &((LogFields) { .vm = uuid }), "VM %s unregistered.", uuid);
        manager_mark_state_dirty(m);
        manager_mark_dirty(m, DIRTY_VM, uuid);
        bus_emit_vm_changed(m, uuid, "removed");
        return 0;
}

int manager_unregister_vm(Manager *m, bool apply, const char *uuid_in, ManagerError *e) {
        char uuid[UUID_STRING_MAX];
        Vm *vm;
        int r;

        if (uuid_normalize(uuid_in, uuid) < 0)
                return manager_error_set(e, MERR_INVALID_ARGUMENT, -EINVAL, "invalid UUID '%s'", uuid_in);
        vm = model_find_vm(m->model, uuid);
        if (!vm)
                return manager_error_set(e, MERR_NO_SUCH_VM, -ESRCH, "no VM with UUID %s", uuid);
        if (!apply)
                return 0;
        r = remove_vm(m, vm);
        if (r < 0)
                return manager_error_set(e, MERR_INVALID_ARGUMENT, r, "cannot unregister: %s", strerror(-r));
        (void) manager_reconcile_now(m);
        return 0;
}

typedef enum VmEventKind {
        EV_PREPARE,
        EV_START,
        EV_STARTED,
        EV_STOPPED,
        EV_RELEASE,
        EV_MIGRATE_OUT_BEGIN,
        EV_MIGRATE_IN_PREPARE,
        EV_MIGRATE_DONE,
        EV_RECONNECT,
        _EV_MAX,
} VmEventKind;

static const char *const vm_event_table[_EV_MAX] = {
        [EV_PREPARE] = RVMSI_VM_EVENT_PREPARE,
        [EV_START] = RVMSI_VM_EVENT_START,
        [EV_STARTED] = RVMSI_VM_EVENT_STARTED,
        [EV_STOPPED] = RVMSI_VM_EVENT_STOPPED,
        [EV_RELEASE] = RVMSI_VM_EVENT_RELEASE,
        [EV_MIGRATE_OUT_BEGIN] = RVMSI_VM_EVENT_MIGRATE_OUT_BEGIN,
        [EV_MIGRATE_IN_PREPARE] = RVMSI_VM_EVENT_MIGRATE_IN_PREPARE,
        [EV_MIGRATE_DONE] = RVMSI_VM_EVENT_MIGRATE_DONE,
        [EV_RECONNECT] = RVMSI_VM_EVENT_RECONNECT,
};

/* The lifecycle table of docs/org.rvmsi.Manager1.md. Returns the new state,
 * _VM_STATE_INVALID if the event is not valid in this state, or
 * _VM_STATE_MAX for "the VM is removed". */
static VmState vm_event_next(VmEventKind ev, VmState s) {
        switch (ev) {
        case EV_PREPARE:
        case EV_START:
                return (s == VM_DEFINED || s == VM_STOPPED || s == VM_RUNNING) ? VM_RUNNING : _VM_STATE_INVALID;
        case EV_STARTED:
                return s == VM_RUNNING ? VM_RUNNING : _VM_STATE_INVALID;
        case EV_STOPPED:
                return (s == VM_RUNNING || s == VM_PAUSED || s == VM_MIGRATING_IN || s == VM_MIGRATING_OUT) ?
                        VM_STOPPED : _VM_STATE_INVALID;
        case EV_RELEASE:
                return (s == VM_DEFINED || s == VM_STOPPED) ? _VM_STATE_MAX : _VM_STATE_INVALID;
        case EV_MIGRATE_OUT_BEGIN:
                return s == VM_RUNNING ? VM_MIGRATING_OUT : _VM_STATE_INVALID;
        case EV_MIGRATE_IN_PREPARE:
                return (s == VM_DEFINED || s == VM_STOPPED) ? VM_MIGRATING_IN : _VM_STATE_INVALID;
        case EV_MIGRATE_DONE:
                if (s == VM_MIGRATING_OUT)
                        return _VM_STATE_MAX;
                return s == VM_MIGRATING_IN ? VM_RUNNING : _VM_STATE_INVALID;
        case EV_RECONNECT:
                return VM_RUNNING;
        default:
                return _VM_STATE_INVALID;
        }
}

int manager_vm_event(Manager *m, bool apply, const char *uuid_in, const char *event, ManagerError *e) {
        char uuid[UUID_STRING_MAX];
        VmEventKind ev = _EV_MAX;
        VmState next;
        Vm *vm;
        int r;

        if (uuid_normalize(uuid_in, uuid) < 0)
                return manager_error_set(e, MERR_INVALID_ARGUMENT, -EINVAL, "invalid UUID '%s'", uuid_in);
        for (int i = 0; i < _EV_MAX; i++)
                if (streq(event, vm_event_table[i]))
                        ev = (VmEventKind) i;
        if (ev == _EV_MAX)
                return manager_error_set(e, MERR_INVALID_ARGUMENT, -EINVAL, "unknown VM event '%s'", event);
        vm = model_find_vm(m->model, uuid);
        if (!vm)
                return manager_error_set(e, MERR_NO_SUCH_VM, -ESRCH, "no VM with UUID %s", uuid);
        next = vm_event_next(ev, vm->state);
        if (next == _VM_STATE_INVALID)
                return manager_error_set(e, MERR_INVALID_TRANSITION, -EBUSY, "event '%s' is not valid for VM '%s' in state '%s'",
                                         event, vm->name, vm_state_to_string(vm->state));

        /* Activation of a strict VM: refuse rather than weaken, and refuse
         * before anything changed (the hook fails the VM start with this). */
        if (next != _VM_STATE_MAX && vm_state_is_active(next) && !vm_state_is_active(vm->state)) {
                r = check_vm_satisfiable(m, vm, next, true, NULL, e);
                if (r < 0)
                        return r;
        }
        if (!apply)
                return 0;

        if (next == _VM_STATE_MAX) {
                r = remove_vm(m, vm);
                if (r < 0)
                        return manager_error_set(e, MERR_INVALID_ARGUMENT, r, "cannot remove: %s", strerror(-r));
        } else if (next != vm->state) {
                r = model_vm_set_state(m->model, vm, next);
                if (r < 0)
                        return manager_error_set(e, MERR_INVALID_TRANSITION, r, "cannot change state: %s",
                                                 strerror(-r));
                if (vm_state_is_active(next))
                        place_pinned(m, vm);
                sim_mirror_vm(m, vm);
                log_fields(LOG_INFO, 0, &((LogFields) { .vm = uuid }), "VM '%s': %s, now %s.", vm->name, event,
                           vm_state_to_string(next));
                manager_mark_state_dirty(m);
                manager_mark_dirty(m, DIRTY_VM, uuid);
                bus_emit_vm_changed(m, uuid, "state");
        }
        (void) manager_reconcile_now(m);
        return 0;
}

int manager_attach_device(Manager *m, bool apply, const char *name, const char *owner, const char *vm_in,
                          ManagerError *e) {
        char uuid[UUID_STRING_MAX] = "";
        OwnerKind k;
        Device *d;
        Vm *vm = NULL;
        bool added = false;
        int r;

        if (!pci_name_valid(name))
                return manager_error_set(e, MERR_INVALID_ARGUMENT, -EINVAL,
                                         "invalid PCI address '%s' (expected DDDD:BB:DD.F, lower-case hex)", name);
        k = owner_kind_from_string(owner);
        if (k < 0)
                return manager_error_set(e, MERR_INVALID_ARGUMENT, -EINVAL,
                                         "unknown owner kind '%s' (host, vm, userspace or none)", owner);
        if (k == OWNER_VM) {
                if (uuid_normalize(vm_in, uuid) < 0)
                        return manager_error_set(e, MERR_INVALID_ARGUMENT, -EINVAL, "invalid VM UUID '%s'", vm_in);
                vm = model_find_vm(m->model, uuid);
                if (!vm)
                        return manager_error_set(e, MERR_NO_SUCH_VM, -ESRCH, "no VM with UUID %s", uuid);
        } else if (!isempty(vm_in))
                return manager_error_set(e, MERR_INVALID_ARGUMENT, -EINVAL,
                                         "a VM UUID ('%s') is only valid with owner kind 'vm'", vm_in);

        d = model_find_device(m->model, name);
        if (d && d->owner == OWNER_VM && (k != OWNER_VM || !streq(d->owner_vm, uuid)))
                return manager_error_set(e, MERR_EXISTS, -EEXIST, "device '%s' is attached to VM %s; detach it first",
                                         name, d->owner_vm);
        if (d && d->owner == k && (k != OWNER_VM || streq(d->owner_vm, uuid)))
                return 0;       /* already so */

        if (vm && vm_state_is_active(vm->state)) {
                r = check_vm_satisfiable(m, vm, vm->state, false, name, e);
                if (r < 0)
                        return r;
        }
        if (!apply)
                return 0;

        if (!d) {
                Sim *sim = backend_sim(m->backend);
                const Device *w = sim ? model_find_device(sim_world(sim), name) : NULL;

                added = true;
                /* The sim's world may know the device (scenario); else it is a
                 * device neither the kernel nor udev told us about yet. */
                r = model_add_device(m->model, name, w ? w->caps : (sim ? CAP_MSI_FLAT | CAP_MSI_MRIF : 0), &d);
                if (r < 0)
                        return manager_error_set(e, MERR_INVALID_ARGUMENT, r, "cannot add '%s': %s", name,
                                                 strerror(-r));
        }
        r = model_device_set_owner(m->model, d, k, k == OWNER_VM ? uuid : NULL);
        if (r < 0) {
                /* A failed call changes nothing: not even the device it just added. */
                if (added)
                        (void) model_remove_device(m->model, name);
                return manager_error_set(e, MERR_INVALID_ARGUMENT, r, "cannot attach '%s': %s", name, strerror(-r));
        }
        sim_mirror_device_owner(m, d);
        sim_refresh_device(m, name);
        log_fields(LOG_INFO, 0, &((LogFields) { .device = name, .vm = vm ? uuid : NULL }),
                   "Device '%s' attached to %s%s%s.", name, owner, vm ? " " : "", vm ? vm->name : "");
        manager_mark_state_dirty(m);
        manager_mark_dirty(m, DIRTY_DEVICE, name);
        if (vm)
                bus_emit_vm_changed(m, uuid, "devices");
        (void) manager_reconcile_now(m);
        return 0;
}

int manager_detach_device(Manager *m, bool apply, const char *name, ManagerError *e) {
        char uuid[UUID_STRING_MAX] = "";
        Device *d;
        int r;

        if (!pci_name_valid(name))
                return manager_error_set(e, MERR_INVALID_ARGUMENT, -EINVAL,
                                         "invalid PCI address '%s' (expected DDDD:BB:DD.F, lower-case hex)", name);
        d = model_find_device(m->model, name);
        if (!d)
                return manager_error_set(e, MERR_NO_SUCH_DEVICE, -ENODEV, "no device '%s'", name);
        if (d->owner == OWNER_VM && d->vm && vm_state_is_active(d->vm->state))
                return manager_error_set(e, MERR_BUSY, -EBUSY, "device '%s' belongs to VM '%s', which is %s; stop it first",
                                         name, d->vm->name, vm_state_to_string(d->vm->state));
        if (!apply)
                return 0;
        if (d->owner == OWNER_NONE)
                return 0;
        if (d->owner == OWNER_VM)
                strcpy(uuid, d->owner_vm);
        r = model_device_set_owner(m->model, d, OWNER_NONE, NULL);
        if (r < 0)
                return manager_error_set(e, MERR_INVALID_ARGUMENT, r, "cannot detach '%s': %s", name, strerror(-r));
        sim_mirror_device_owner(m, d);
        log_fields(LOG_INFO, 0, &((LogFields) { .device = name }), "Device '%s' detached.", name);
        manager_mark_state_dirty(m);
        manager_mark_dirty(m, DIRTY_DEVICE, name);
        if (uuid[0])
                bus_emit_vm_changed(m, uuid, "devices");
        (void) manager_reconcile_now(m);
        return 0;
}

/* ---- read-only operations -------------------------------------------------------------- */

int manager_get_policy(Manager *m, char **ret) {
        _cleanup_json_ json_object *j = NULL;
        int r;

        r = policy_to_json(m->policy, &j);
        if (r < 0)
                return r;
        return json_to_string_pretty(j, ret);
}

int manager_check_policy(Manager *m, const char *json, char **ret, ManagerError *e) {
        _cleanup_(policy_freep) Policy *p = NULL;
        _cleanup_(desired_freep) Desired *d = NULL;
        _cleanup_json_ json_object *j = NULL;
        int r;

        r = parse_dbus_policy(json, &p, e);
        if (r < 0)
                return r;
        r = solver_compute(m->model, p, &d);
        if (r < 0)
                return manager_error_set(e, MERR_POLICY_INVALID, r, "cannot solve with this policy: %s", strerror(-r));
        r = desired_to_json(d, &j);
        if (r < 0)
                return r;
        return json_to_string_pretty(j, ret);
}

int manager_plan(Manager *m, const char *scenario_json, char **ret, ManagerError *e) {
        _cleanup_(scenario_freep) Scenario *sc = NULL;
        _cleanup_(backend_freep) Backend *b = NULL;
        _cleanup_(model_freep) Model *model = NULL;
        _cleanup_(policy_freep) Policy *policy = NULL;
        _cleanup_(reconciler_freep) Reconciler *rec = NULL;
        _cleanup_json_ json_object *root = NULL, *report = NULL, *desired = NULL, *errors = NULL;
        ReconcileStats stats;
        size_t n_ops = 0, n_failed = 0;
        SimCounters counters = {};
        const char *first = NULL;
        JsonError je = {};
        char buf[1024];
        int r;

        if (strlen(scenario_json) > JSON_ARG_MAX)
                return manager_error_set(e, MERR_SCENARIO_INVALID, -EFBIG, "scenario larger than %d bytes",
                                         JSON_ARG_MAX);
        r = scenario_parse_buffer(scenario_json, strlen(scenario_json), "dbus", &sc, &je);
        if (r < 0)
                return manager_error_set(e, MERR_SCENARIO_INVALID, r, "%s", json_error_format(&je, buf, sizeof(buf)));
        r = scenario_setup(sc, &b, &model, &policy, &je);
        if (r < 0)
                return manager_error_set(e, MERR_SCENARIO_INVALID, r, "%s", json_error_format(&je, buf, sizeof(buf)));
        r = reconciler_new(model, &policy, b, &rec);
        if (r < 0)
                return r;

        errors = json_object_new_array();
        if (!errors)
                return -ENOMEM;
        stats = (ReconcileStats) {};
        r = reconciler_resync(rec, &stats);
        n_ops += stats.n_applied;
        if (r < 0)
                return manager_error_set(e, MERR_SCENARIO_INVALID, r, "initial resync failed: %s", strerror(-r));
        for (size_t i = 0; i < scenario_n_steps(sc); i++) {
                je = (JsonError) {};
                r = scenario_step(sc, i, b, model, rec, &je);
                if (r < 0) {
                        n_failed++;
                        json_object_array_add(errors, json_object_new_string(json_error_format(&je, buf, sizeof(buf))));
                }
                stats = (ReconcileStats) {};
                r = reconciler_run(rec, &stats);
                n_ops += stats.n_applied;
                if (r < 0)
                        return manager_error_set(e, MERR_SCENARIO_INVALID, r, "step %zu: reconciling failed: %s", i,
                                                 strerror(-r));
        }

        if (backend_sim(b))
                sim_get_counters(backend_sim(b), &counters);
        r = desired_to_json(reconciler_desired(rec), &desired);
        if (r < 0)
                return r;
        report = json_object_new_object();
        root = json_object_new_object();
        if (!report || !root)
                return -ENOMEM;
        json_object_object_add(report, "steps", json_object_new_uint64(scenario_n_steps(sc)));
        json_object_object_add(report, "operations", json_object_new_uint64(n_ops));
        json_object_object_add(report, "failed_steps", json_object_new_uint64(n_failed));
        json_object_object_add(report, "violations",
                               json_object_new_uint64(reconciler_desired(rec)->n_violations));
        json_object_object_add(report, "invariant_violations",
                               json_object_new_uint64(backend_sim(b) ? sim_n_violations(backend_sim(b), &first) : 0));
        json_object_object_add(report, "faults", json_object_new_uint64(counters.faults));
        json_object_object_add(report, "notices", json_object_new_uint64(counters.notices));
        json_object_object_add(report, "delivered", json_object_new_uint64(counters.delivered));
        json_object_object_add(root, "report", TAKE_PTR(report));
        json_object_object_add(root, "errors", TAKE_PTR(errors));
        json_object_object_add(root, "desired", TAKE_PTR(desired));
        return json_to_string_pretty(root, ret);
}

const DeviceState *manager_device_desired(Manager *m, const char *name) {
        const Desired *d = m->reconciler ? reconciler_desired(m->reconciler) : NULL;

        return d ? device_table_find(&d->devices, name) : NULL;
}

ApplyState manager_device_apply_state(Manager *m, const char *name, int *ret_error) {
        const DeviceState *s = manager_device_desired(m, name);

        if (ret_error)
                *ret_error = s && s->apply_state == APPLY_FAILED ? s->apply_error : 0;
        return s ? (ApplyState) s->apply_state : APPLY_PENDING;
}

uint32_t manager_guest_files_free(Manager *m) {
        const Geometry *g = &m->model->geometry;
        uint32_t used = 0, total = g->nr_harts * g->nr_guest_files;

        for (uint32_t h = 0; h < g->nr_harts; h++)
                used += (uint32_t) __builtin_popcountll(m->model->harts[h].reserved_files);
        for (size_t i = 0; i < m->model->n_vms; i++) {
                const Vm *vm = m->model->vms[i];

                for (uint32_t v = 0; v < vm->nr_vcpus; v++)
                        if (vm->vcpus[v].guest_file > 0)
                                used++;
        }
        return used > total ? 0 : total - used;
}

size_t manager_n_unsatisfied(Manager *m) {
        const Desired *d = m->reconciler ? reconciler_desired(m->reconciler) : NULL;
        size_t n = 0;

        if (!d)
                return 0;
        for (size_t i = 0; i < d->devices.n_devices; i++)
                if (d->devices.devices[i].violation)
                        n++;
        return n;
}

int manager_vm_counts(Manager *m, const Vm *vm, uint32_t *ret_guest_files, uint32_t *ret_mrif) {
        uint32_t gf = 0, mrif = 0;

        for (uint32_t v = 0; v < vm->nr_vcpus; v++)
                if (vm->vcpus[v].guest_file > 0)
                        gf++;
        /* The VM's own list, not a scan of every device: Describe() and the VM properties run this per VM. */
        for (size_t i = 0; i < vm->n_devices; i++) {
                const Device *d = vm->devices[i];
                const DeviceState *s;

                s = manager_device_desired(m, d->name);
                if (!s)
                        continue;
                for (uint32_t j = 0; j < s->n_entries; j++)
                        if (s->entries[j].kind == ENTRY_MRIF)
                                mrif++;
        }
        *ret_guest_files = gf;
        *ret_mrif = mrif;
        return 0;
}

int manager_vm_unsatisfied(Manager *m, const Vm *vm, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        int r;

        for (size_t i = 0; i < vm->n_devices; i++) {
                const Device *d = vm->devices[i];
                const DeviceState *s;

                s = manager_device_desired(m, d->name);
                if (!s || !s->violation)
                        continue;
                for (uint32_t j = 0; j < s->n_entries; j++) {
                        _cleanup_free_ char *text = NULL, *line = NULL;
                        char t[32];

                        if (!(s->entries[j].flags & ENTRY_FLAG_VIOLATION))
                                continue;
                        (void) solver_explain(m->model, m->policy, s, &s->entries[j], &text);
                        if (asprintf(&line, "%s %s: %s", d->name, target_to_string(s->entries[j].target, t),
                                     text ?: reason_describe(s->entries[j].reason)) < 0)
                                return -ENOMEM;
                        r = strv_extend(&l, line);
                        if (r < 0)
                                return r;
                }
        }
        if (!l) {
                l = calloc(1, sizeof(char *));
                if (!l)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

uint64_t manager_device_faults(Manager *m, const char *name) {
        uint64_t n = 0;

        for (size_t i = 0; i < m->n_faults; i++)
                if (streq(m->faults[(m->fault_head + i) % MANAGER_N_FAULTS].device, name))
                        n++;
        return n;
}

char *manager_status(Manager *m) {
        char *s = NULL;
        const char *vfio = m->vfio_watch ? "udev" : (m->config.backend == BACKEND_KIND_SIM ? "sim" : "off");
        bool unsatisfied;

        if (!m->model)
                return strdup("starting");
        unsatisfied = manager_n_unsatisfied(m) > 0;
        if (asprintf(&s, "%s on %s backend, %zu VMs, %zu devices, %u/%u guest files free%s%s; affinity: %s; "
                     "vfio-pci: %s%s%s",
                     unsatisfied || m->backend_failed || m->reload_failed ? "degraded" : "running",
                     backend_name(m->backend), m->model->n_vms, m->model->n_devices, manager_guest_files_free(m),
                     m->model->geometry.nr_harts * m->model->geometry.nr_guest_files,
                     unsatisfied ? ", unsatisfied requirements: " : "",
                     unsatisfied ? "yes" : "",
                     strempty(affinity_source_to_string(m->affinity)), vfio,
                     m->last_error ? "; last error: " : "", strempty(m->last_error)) < 0)
                return NULL;
        return s;
}

void explanations_free(Explanation *x, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(x[i].text);
        free(x);
}

int manager_explain(Manager *m, const char *device, const char *target, Explanation **ret, size_t *ret_n,
                    ManagerError *e) {
        const DeviceState *s;
        Explanation *x = NULL;
        uint32_t t = 0;
        size_t n = 0;
        int r;

        if (!pci_name_valid(device))
                return manager_error_set(e, MERR_INVALID_ARGUMENT, -EINVAL,
                                         "invalid PCI address '%s' (expected DDDD:BB:DD.F, lower-case hex)", device);
        if (!isempty(target) && target_from_string(target, &t) < 0)
                return manager_error_set(e, MERR_INVALID_ARGUMENT, -EINVAL,
                                         "invalid target '%s' (expected hart:N or vcpu:N)", target);
        if (!model_find_device(m->model, device))
                return manager_error_set(e, MERR_NO_SUCH_DEVICE, -ENODEV, "no device '%s'", device);
        s = manager_device_desired(m, device);
        if (!s)
                return manager_error_set(e, MERR_NO_SUCH_DEVICE, -ENODEV, "no decision for device '%s' yet", device);

        x = new0(Explanation, s->n_entries + 1);
        if (!x)
                return -ENOMEM;
        for (uint32_t i = 0; i < s->n_entries; i++) {
                const Entry *en = &s->entries[i];

                if (!isempty(target) && en->target != t)
                        continue;
                target_to_string(en->target, x[n].target);
                x[n].mode = entry_mode_string(en);
                x[n].code = reason_to_string(en->reason);
                r = solver_explain(m->model, m->policy, s, en, &x[n].text);
                n++;
                if (r < 0) {
                        explanations_free(x, n);
                        return r;
                }
        }
        if (!isempty(target) && n == 0) {
                explanations_free(x, 0);
                return manager_error_set(e, MERR_NO_SUCH_TARGET, -ENOENT, "device '%s' has no target '%s'", device,
                                         target);
        }
        if (n == 0) {
                /* No targets: explain the device as a whole. */
                x[0].mode = mode_to_string(s->mode);
                x[0].code = reason_to_string(s->reason);
                r = solver_explain(m->model, m->policy, s, NULL, &x[0].text);
                n = 1;
                if (r < 0) {
                        explanations_free(x, n);
                        return r;
                }
        }
        *ret = x;
        *ret_n = n;
        return 0;
}

/* ---- bus ------------------------------------------------------------------------------- */

int manager_connect_bus(Manager *m) {
        const char *bus = m->config.bus ?: "system";
        int r;

        if (streq(bus, "system"))
                r = sd_bus_open_system(&m->bus);
        else if (streq(bus, "user"))
                r = sd_bus_open_user(&m->bus);
        else {
                r = sd_bus_new(&m->bus);
                if (r >= 0)
                        r = sd_bus_set_address(m->bus, bus);
                if (r >= 0)
                        r = sd_bus_set_bus_client(m->bus, true);
                if (r >= 0)
                        r = sd_bus_start(m->bus);
        }
        if (r < 0)
                return log_error_errno(r, "Failed to connect to the %s bus: %m", bus);

        r = bus_manager_add_objects(m);
        if (r < 0)
                return r;
        /* Taken synchronously: a second rvmsid must fail here, loudly. */
        r = sd_bus_request_name(m->bus, RVMSI_BUS_NAME, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to acquire the bus name '%s': %m", RVMSI_BUS_NAME);
        r = sd_bus_attach_event(m->bus, m->event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0)
                return log_error_errno(r, "Failed to attach the bus to the event loop: %m");
        /* Without its bus the daemon can be told nothing: leave, and let
         * systemd's Restart= bring it back once the bus is there again. */
        r = sd_bus_set_exit_on_disconnect(m->bus, true);
        if (r < 0)
                return log_error_errno(r, "Failed to set exit-on-disconnect: %m");
        return 0;
}
