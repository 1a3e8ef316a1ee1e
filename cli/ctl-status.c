/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rvmsictl status, resync, reload: the manager object's properties and its
 * two maintenance methods.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "bus-names.h"
#include "rvmsictl.h"

typedef struct ManagerInfo {
        char *version, *backend, *status, *policy_source, *affinity_source;
        uint32_t geometry[5];
        uint32_t n_vms, n_devices, n_guest_files, n_guest_files_free, n_unsatisfied, policy_version;
        uint64_t policy_generation, last_resync, fault_count;
        int degraded;
} ManagerInfo;

static void manager_info_done(ManagerInfo *i) {
        free(i->version);
        free(i->backend);
        free(i->status);
        free(i->policy_source);
        free(i->affinity_source);
}

typedef struct PropertyMap {
        const char *name;
        char type;
        size_t offset;
} PropertyMap;

/* Properties we show, mapped into ManagerInfo by offset (timedatectl's way). */
static const PropertyMap manager_map[] = {
        { "Version",          's', offsetof(ManagerInfo, version)            },
        { "Backend",          's', offsetof(ManagerInfo, backend)            },
        { "Status",           's', offsetof(ManagerInfo, status)             },
        { "PolicySource",     's', offsetof(ManagerInfo, policy_source)      },
        { "AffinitySource",   's', offsetof(ManagerInfo, affinity_source)    },
        { "NVMs",             'u', offsetof(ManagerInfo, n_vms)              },
        { "NDevices",         'u', offsetof(ManagerInfo, n_devices)          },
        { "NGuestFiles",      'u', offsetof(ManagerInfo, n_guest_files)      },
        { "NGuestFilesFree",  'u', offsetof(ManagerInfo, n_guest_files_free) },
        { "NUnsatisfied",     'u', offsetof(ManagerInfo, n_unsatisfied)      },
        { "PolicyVersion",    'u', offsetof(ManagerInfo, policy_version)     },
        { "PolicyGeneration", 't', offsetof(ManagerInfo, policy_generation)  },
        { "LastResync",       't', offsetof(ManagerInfo, last_resync)        },
        { "FaultCount",       't', offsetof(ManagerInfo, fault_count)        },
        { "Degraded",         'b', offsetof(ManagerInfo, degraded)           },
};

static int read_property(sd_bus_message *m, const char *name, ManagerInfo *info) {
        uint8_t *base = (uint8_t *) info;
        char sig[2] = {};
        const char *s;
        int r;

        if (streq(name, "Geometry")) {
                r = sd_bus_message_enter_container(m, 'v', "(uuuuu)");
                if (r < 0)
                        return r;
                r = sd_bus_message_read(m, "(uuuuu)", &info->geometry[0], &info->geometry[1], &info->geometry[2],
                                        &info->geometry[3], &info->geometry[4]);
                if (r < 0)
                        return r;
                return sd_bus_message_exit_container(m);
        }
        for (size_t i = 0; i < ELEMENTSOF(manager_map); i++) {
                if (!streq(name, manager_map[i].name))
                        continue;
                sig[0] = manager_map[i].type;
                r = sd_bus_message_enter_container(m, 'v', sig);
                if (r < 0)
                        return r;
                if (sig[0] == 's') {
                        char **p = (char **) (base + manager_map[i].offset);

                        r = sd_bus_message_read_basic(m, 's', &s);
                        if (r < 0)
                                return r;
                        free(*p);
                        *p = strdup(s);
                        if (!*p)
                                return -ENOMEM;
                } else {
                        r = sd_bus_message_read_basic(m, sig[0], base + manager_map[i].offset);
                        if (r < 0)
                                return r;
                }
                return sd_bus_message_exit_container(m);
        }
        /* A property this rvmsictl does not know (a newer rvmsid): skip it. */
        return sd_bus_message_skip(m, "v");
}

int verb_status(Ctl *c, int argc, char **argv) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(manager_info_done) ManagerInfo info = {};
        char tbuf[64];
        sd_bus *bus;
        int r;

        if (c->json) {
                _cleanup_json_ json_object *o = NULL;
                _cleanup_free_ char *text = NULL;

                /* The whole Describe() document, exactly as rvmsid wrote it. */
                r = ctl_describe(c, NULL, &o, &text);
                if (r != 0)
                        return r;
                fputs(text, stdout);
                if (!*text || text[strlen(text) - 1] != '\n')
                        putchar('\n');
                return CTL_EXIT_OK;
        }

        r = ctl_bus(c, &bus);
        if (r != 0)
                return r;
        r = sd_bus_call_method(bus, RVMSI_BUS_NAME, RVMSI_BUS_PATH, "org.freedesktop.DBus.Properties", "GetAll",
                               &error, &reply, "s", RVMSI_BUS_IFACE_MANAGER);
        if (r < 0)
                return ctl_report_bus_error(&error, r, "GetAll");

        r = sd_bus_message_enter_container(reply, 'a', "{sv}");
        if (r < 0)
                goto bad;
        for (;;) {
                const char *name;

                r = sd_bus_message_enter_container(reply, 'e', "sv");
                if (r < 0)
                        goto bad;
                if (r == 0)
                        break;
                r = sd_bus_message_read_basic(reply, 's', &name);
                if (r < 0)
                        goto bad;
                r = read_property(reply, name, &info);
                if (r < 0)
                        goto bad;
                r = sd_bus_message_exit_container(reply);
                if (r < 0)
                        goto bad;
        }

        printf("         rvmsid: %s, backend '%s'\n", strempty(info.version), strempty(info.backend));
        printf("         Status: %s\n", strempty(info.status));
        printf("       Degraded: %s\n", yes_no(info.degraded));
        printf("       Geometry: %" PRIu32 " group%s, %" PRIu32 " harts, %" PRIu32 " guest files per hart, "
               "%" PRIu32 " identities per file (%" PRIu32 " per guest file)\n",
               info.geometry[0], info.geometry[0] == 1 ? "" : "s", info.geometry[1], info.geometry[2],
               info.geometry[3], info.geometry[4]);
        printf("    Guest files: %" PRIu32 " free of %" PRIu32 "\n", info.n_guest_files_free, info.n_guest_files);
        printf("            VMs: %" PRIu32 "\n", info.n_vms);
        printf("        Devices: %" PRIu32 "\n", info.n_devices);
        printf("    Unsatisfied: %" PRIu32 "%s\n", info.n_unsatisfied,
               info.n_unsatisfied ? " (rvmsictl vms / rvmsictl explain DEVICE)" : "");
        printf("         Policy: %s (schema %" PRIu32 ", generation %" PRIu64 ")\n", strempty(info.policy_source),
               info.policy_version, info.policy_generation);
        printf("       Affinity: %s\n", strempty(info.affinity_source));
        printf("    Last resync: %s\n", ctl_format_time(info.last_resync, tbuf, sizeof(tbuf)));
        printf("         Faults: %" PRIu64 "%s\n", info.fault_count, info.fault_count ? " (rvmsictl faults)" : "");
        return CTL_EXIT_OK;

bad:
        return ctl_report_bus_error(NULL, r, "parsing the GetAll() reply");
}

int verb_resync(Ctl *c, int argc, char **argv) {
        int r;

        r = ctl_call(c, "Resync", NULL, NULL);
        if (r != 0)
                return r;
        if (!c->json)
                printf("Resynchronized: the backend now matches the decision.\n");
        return CTL_EXIT_OK;
}

int verb_reload(Ctl *c, int argc, char **argv) {
        int r;

        r = ctl_call(c, "Reload", NULL, NULL);
        if (r != 0)
                return r;
        if (!c->json)
                printf("Configuration reloaded.\n");
        return CTL_EXIT_OK;
}
