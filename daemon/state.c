/* SPDX-License-Identifier: GPL-2.0-or-later */

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "fileio.h"
#include "policy-json.h"
#include "state.h"

#define STATE_FILE_MAX (64U * 1024U * 1024U)

static void state_vm_done(StateVm *v) {
        v->name = mfree(v->name);
        v->placement = mfree(v->placement);
        v->pinned = mfree(v->pinned);
        for (uint32_t c = 0; v->pin_cpus && c < v->nr_vcpus; c++)
                free(v->pin_cpus[c]);
        v->pin_cpus = mfree(v->pin_cpus);
        v->n_pin_cpus = mfree(v->n_pin_cpus);
}

static int state_vm_alloc_vcpus(StateVm *v, uint32_t n) {
        v->nr_vcpus = n;
        v->placement = new(uint32_t, n);
        v->pinned = new(uint32_t, n);
        v->pin_cpus = new0(uint32_t *, n);
        v->n_pin_cpus = new0(uint32_t, n);
        if (!v->placement || !v->pinned || !v->pin_cpus || !v->n_pin_cpus)
                return -ENOMEM;
        for (uint32_t c = 0; c < n; c++)
                v->placement[c] = v->pinned[c] = NO_HART;
        return 0;
}

State *state_free(State *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_vms; i++)
                state_vm_done(&s->vms[i]);
        free(s->vms);
        for (size_t i = 0; i < s->n_devices; i++)
                free(s->devices[i].label);
        free(s->devices);
        for (size_t i = 0; i < s->n_overrides; i++)
                free(s->overrides[i].key);
        free(s->overrides);
        return mfree(s);
}

int state_capture(const Model *m, const Policy *overrides, State **ret) {
        _cleanup_(state_freep) State *s = NULL;

        assert_return(m && ret, -EINVAL);

        s = new0(State, 1);
        if (!s)
                return -ENOMEM;
        if (m->n_vms > 0 && !(s->vms = new0(StateVm, m->n_vms)))
                return -ENOMEM;
        for (size_t i = 0; i < m->n_vms; i++) {
                const Vm *vm = m->vms[i];
                StateVm *v = &s->vms[s->n_vms++];

                memcpy(v->uuid, vm->uuid, sizeof(v->uuid));
                if (vm->name && !(v->name = strdup(vm->name)))
                        return -ENOMEM;
                v->state = vm->state;
                v->klass = vm->klass;
                v->priority_set = vm->priority_set;
                v->priority = vm->priority;
                if (state_vm_alloc_vcpus(v, vm->nr_vcpus) < 0)
                        return -ENOMEM;
                for (uint32_t c = 0; c < vm->nr_vcpus; c++) {
                        const Vcpu *vc = &vm->vcpus[c];

                        v->placement[c] = vc->hart;
                        if (vc->n_pin_cpus > 0) {
                                v->pin_cpus[c] = new(uint32_t, vc->n_pin_cpus);
                                if (!v->pin_cpus[c])
                                        return -ENOMEM;
                                memcpy(v->pin_cpus[c], vc->pin_cpus, vc->n_pin_cpus * sizeof(uint32_t));
                                v->n_pin_cpus[c] = vc->n_pin_cpus;
                        }
                }
        }
        if (m->n_devices > 0 && !(s->devices = new0(StateDevice, m->n_devices)))
                return -ENOMEM;
        for (size_t i = 0; i < m->n_devices; i++) {
                const Device *d = m->devices[i];
                StateDevice *sd = &s->devices[s->n_devices++];

                strcpy(sd->name, d->name);
                sd->owner = d->owner;
                memcpy(sd->vm, d->owner_vm, sizeof(sd->vm));
                if (d->owner_label && !(sd->label = strdup(d->owner_label)))
                        return -ENOMEM;
                sd->locked = d->locked;
                sd->caps = d->caps;
        }
        if (overrides && overrides->n_vm_overrides > 0) {
                s->overrides = new0(PolicyVmOverride, overrides->n_vm_overrides);
                if (!s->overrides)
                        return -ENOMEM;
                for (size_t i = 0; i < overrides->n_vm_overrides; i++) {
                        s->overrides[i] = overrides->vm_overrides[i];
                        s->overrides[i].key = strdup(overrides->vm_overrides[i].key);
                        if (!s->overrides[i].key)
                                return -ENOMEM;
                        s->n_overrides++;
                }
        }
        *ret = TAKE_PTR(s);
        return 0;
}

static json_object *hart_json(uint32_t h) {
        return h == NO_HART ? NULL : json_object_new_int64(h);
}

static int add_hart(json_object *o, const char *key, uint32_t h) {
        if (h == NO_HART)
                return json_object_object_add(o, key, NULL) < 0 ? -ENOMEM : 0;
        return json_add_take(o, key, hart_json(h));
}

int state_to_json(const State *s, json_object **ret) {
        _cleanup_json_ json_object *root = NULL;
        json_object *vms, *devs, *ovs;
        int r = 0;

        assert_return(s && ret, -EINVAL);

        root = json_object_new_object();
        if (!root)
                return -ENOMEM;
        RET_GATHER(r, json_add_take(root, "version", json_object_new_int(STATE_VERSION)));
        RET_GATHER(r, json_add_take(root, "comment", json_object_new_string("Private data of rvmsid. Do not edit.")));
        vms = json_object_new_array();
        RET_GATHER(r, json_add_take(root, "vms", vms));
        devs = json_object_new_array();
        RET_GATHER(r, json_add_take(root, "devices", devs));
        ovs = json_object_new_array();
        RET_GATHER(r, json_add_take(root, "overrides", ovs));
        if (r < 0)
                return r;

        for (size_t i = 0; i < s->n_vms; i++) {
                const StateVm *v = &s->vms[i];
                json_object *o = json_object_new_object(), *vc;

                r = json_append_take(vms, o);
                if (r < 0)
                        return r;
                RET_GATHER(r, json_add_take(o, "uuid", json_object_new_string(v->uuid)));
                if (v->name)
                        RET_GATHER(r, json_add_take(o, "name", json_object_new_string(v->name)));
                RET_GATHER(r, json_add_take(o, "state", json_object_new_string(vm_state_to_string(v->state))));
                if (v->klass != _CLASS_INVALID)
                        RET_GATHER(r, json_add_take(o, "class", json_object_new_string(isolation_class_to_string(v->klass))));
                if (v->priority_set)
                        RET_GATHER(r, json_add_take(o, "priority", json_object_new_int64(v->priority)));
                vc = json_object_new_array();
                RET_GATHER(r, json_add_take(o, "vcpus", vc));
                if (r < 0)
                        return r;
                for (uint32_t c = 0; c < v->nr_vcpus; c++) {
                        json_object *co = json_object_new_object();

                        r = json_append_take(vc, co);
                        if (r < 0)
                                return r;
                        RET_GATHER(r, add_hart(co, "hart", v->placement[c]));
                        if (v->n_pin_cpus[c] > 0) {
                                json_object *cpus = json_object_new_array();

                                RET_GATHER(r, json_add_take(co, "cpus", cpus));
                                for (uint32_t k = 0; r >= 0 && k < v->n_pin_cpus[c]; k++)
                                        r = json_append_take(cpus, json_object_new_int64(v->pin_cpus[c][k]));
                        }
                        if (r < 0)
                                return r;
                }
        }
        for (size_t i = 0; i < s->n_devices; i++) {
                const StateDevice *d = &s->devices[i];
                json_object *o = json_object_new_object();

                r = json_append_take(devs, o);
                if (r < 0)
                        return r;
                RET_GATHER(r, json_add_take(o, "name", json_object_new_string(d->name)));
                RET_GATHER(r, json_add_take(o, "owner", json_object_new_string(owner_kind_to_string(d->owner))));
                if (d->owner == OWNER_VM)
                        RET_GATHER(r, json_add_take(o, "vm", json_object_new_string(d->vm)));
                if (d->label)
                        RET_GATHER(r, json_add_take(o, "label", json_object_new_string(d->label)));
                RET_GATHER(r, json_add_take(o, "locked", json_object_new_boolean(d->locked)));
                RET_GATHER(r, json_add_take(o, "caps", json_object_new_int64((int64_t) (d->caps & 0xffffffff))));
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < s->n_overrides; i++) {
                json_object *o;

                r = policy_vm_override_to_json(&s->overrides[i], &o);
                if (r < 0)
                        return r;
                r = json_append_take(ovs, o);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(root);
        return 0;
}

static int get_hart(json_object *o, const char *path, const char *key, uint32_t *ret, JsonError *e) {
        json_object *v;
        char fpath[JSON_PATH_MAX];
        int64_t x;
        int r;

        if (!json_object_object_get_ex(o, key, &v) || !v) {
                *ret = NO_HART;
                return 0;
        }
        r = json_check_int64(v, json_path_key(fpath, path, key), 0, GEOMETRY_MAX_HARTS - 1, &x, e);
        if (r < 0)
                return r;
        *ret = (uint32_t) x;
        return 0;
}

/* Version 2: "cpus", the CPU set a vCPU is pinned to, as registered (sorted, no duplicates). */
static int get_cpus(json_object *o, const char *path, uint32_t **ret, uint32_t *ret_n, JsonError *e) {
        _cleanup_free_ uint32_t *cpus = NULL;
        char fpath[JSON_PATH_MAX], ipath[JSON_PATH_MAX];
        json_object *a;
        size_t n;
        int r;

        r = json_get_array(o, path, "cpus", false, &a, e);
        if (r <= 0)
                return r;
        json_path_key(fpath, path, "cpus");
        n = json_object_array_length(a);
        if (n == 0 || n > GEOMETRY_MAX_HARTS)
                return json_error_set(e, fpath, "needs 1..%u CPUs (leave it out for none)", GEOMETRY_MAX_HARTS);
        cpus = new(uint32_t, n);
        if (!cpus)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int64_t x;

                r = json_check_int64(json_object_array_get_idx(a, i), json_path_index(ipath, fpath, i), 0, INT32_MAX,
                                     &x, e);
                if (r < 0)
                        return r;
                cpus[i] = (uint32_t) x;
                if (i > 0 && cpus[i] <= cpus[i - 1])
                        return json_error_set(e, ipath, "CPUs must be sorted and distinct");
        }
        *ret = TAKE_PTR(cpus);
        *ret_n = (uint32_t) n;
        return 0;
}

static int parse_vm(json_object *o, const char *path, uint32_t version, StateVm *v, JsonError *e) {
        static const char *const keys[] = { "uuid", "name", "state", "class", "priority", "vcpus", NULL };
        const char *s;
        json_object *vc;
        char fpath[JSON_PATH_MAX];
        int64_t prio;
        size_t n;
        int r;

        r = json_check_keys(o, path, keys, e);
        if (r < 0)
                return r;
        r = json_get_string(o, path, "uuid", true, &s, e);
        if (r < 0)
                return r;
        if (uuid_normalize(s, v->uuid) < 0)
                return json_error_set(e, json_path_key(fpath, path, "uuid"), "not a UUID: '%s'", s);
        r = json_get_string(o, path, "name", false, &s, e);
        if (r < 0)
                return r;
        if (r > 0) {
                if (vm_name_validate(s) < 0)
                        return json_error_set(e, json_path_key(fpath, path, "name"), "invalid VM name");
                v->name = strdup(s);
                if (!v->name)
                        return -ENOMEM;
        }
        r = json_get_string(o, path, "state", true, &s, e);
        if (r < 0)
                return r;
        v->state = vm_state_from_string(s);
        if (v->state < 0)
                return json_error_set(e, json_path_key(fpath, path, "state"), "unknown VM state '%s'", s);
        v->klass = _CLASS_INVALID;
        r = json_get_string(o, path, "class", false, &s, e);
        if (r < 0)
                return r;
        if (r > 0) {
                v->klass = isolation_class_from_string(s);
                if (v->klass < 0)
                        return json_error_set(e, json_path_key(fpath, path, "class"), "unknown class '%s'", s);
        }
        r = json_get_int64(o, path, "priority", false, POLICY_PRIORITY_MIN, POLICY_PRIORITY_MAX, &prio, e);
        if (r < 0)
                return r;
        if (r > 0) {
                v->priority_set = true;
                v->priority = (int32_t) prio;
        }
        r = json_get_array(o, path, "vcpus", true, &vc, e);
        if (r < 0)
                return r;
        n = json_object_array_length(vc);
        if (n == 0 || n > VM_MAX_VCPUS)
                return json_error_set(e, json_path_key(fpath, path, "vcpus"), "needs 1..%u vCPUs", VM_MAX_VCPUS);
        if (state_vm_alloc_vcpus(v, (uint32_t) n) < 0)
                return -ENOMEM;
        for (size_t c = 0; c < n; c++) {
                static const char *const ckeys_v1[] = { "hart", "pinned", NULL };
                static const char *const ckeys_v2[] = { "hart", "cpus", NULL };
                json_object *co = json_object_array_get_idx(vc, c);
                char cpath[JSON_PATH_MAX];

                json_path_index(cpath, json_path_key(fpath, path, "vcpus"), c);
                r = json_check_keys(co, cpath, version == 1 ? ckeys_v1 : ckeys_v2, e);
                if (r < 0)
                        return r;
                r = get_hart(co, cpath, "hart", &v->placement[c], e);
                if (r < 0)
                        return r;
                if (version == 1)
                        r = get_hart(co, cpath, "pinned", &v->pinned[c], e);
                else
                        r = get_cpus(co, cpath, &v->pin_cpus[c], &v->n_pin_cpus[c], e);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_device(json_object *o, const char *path, StateDevice *d, JsonError *e) {
        static const char *const keys[] = { "name", "owner", "vm", "label", "locked", "caps", NULL };
        const char *s;
        char fpath[JSON_PATH_MAX];
        int64_t caps = 0;
        int r;

        r = json_check_keys(o, path, keys, e);
        if (r < 0)
                return r;
        r = json_get_string(o, path, "name", true, &s, e);
        if (r < 0)
                return r;
        if (device_name_validate(s) < 0)
                return json_error_set(e, json_path_key(fpath, path, "name"), "invalid device name");
        strcpy(d->name, s);
        r = json_get_string(o, path, "owner", true, &s, e);
        if (r < 0)
                return r;
        d->owner = owner_kind_from_string(s);
        if (d->owner < 0)
                return json_error_set(e, json_path_key(fpath, path, "owner"), "unknown owner kind '%s'", s);
        r = json_get_string(o, path, "vm", d->owner == OWNER_VM, &s, e);
        if (r < 0)
                return r;
        if (r > 0 && (d->owner != OWNER_VM || uuid_normalize(s, d->vm) < 0))
                return json_error_set(e, json_path_key(fpath, path, "vm"), "not a VM UUID, or owner is not 'vm'");
        r = json_get_string(o, path, "label", false, &s, e);
        if (r < 0)
                return r;
        if (r > 0) {
                if (d->owner != OWNER_USERSPACE || vm_name_validate(s) < 0)
                        return json_error_set(e, json_path_key(fpath, path, "label"),
                                              "a label needs owner 'userspace' and printable text");
                d->label = strdup(s);
                if (!d->label)
                        return -ENOMEM;
        }
        r = json_get_bool(o, path, "locked", false, &d->locked, e);
        if (r < 0)
                return r;
        r = json_get_int64(o, path, "caps", false, 0, UINT32_MAX, &caps, e);
        if (r < 0)
                return r;
        d->caps = (uint64_t) caps;
        return 0;
}

int state_from_json(json_object *root, State **ret, JsonError *e) {
        static const char *const keys[] = { "version", "comment", "vms", "devices", "overrides", NULL };
        _cleanup_(state_freep) State *s = NULL;
        json_object *vms = NULL, *devs = NULL, *ovs = NULL;
        uint32_t version;
        int r;

        assert_return(root && ret, -EINVAL);

        r = json_check_keys(root, "", keys, e);
        if (r < 0)
                return r;
        r = json_get_uint32(root, "", "version", true, 0, UINT32_MAX, &version, e);
        if (r < 0)
                return r;
        if (version < STATE_VERSION_MIN || version > STATE_VERSION)
                return json_error_set_errno(e, -EPROTONOSUPPORT, "version", "unsupported state version %u", version);
        r = json_get_array(root, "", "vms", false, &vms, e);
        if (r < 0)
                return r;
        r = json_get_array(root, "", "devices", false, &devs, e);
        if (r < 0)
                return r;
        r = json_get_array(root, "", "overrides", false, &ovs, e);
        if (r < 0)
                return r;

        s = new0(State, 1);
        if (!s)
                return -ENOMEM;
        if (vms && json_object_array_length(vms) > 0) {
                size_t n = json_object_array_length(vms);

                s->vms = new0(StateVm, n);
                if (!s->vms)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++) {
                        char path[JSON_PATH_MAX];

                        json_path_index(path, "vms", i);
                        s->n_vms++;
                        r = parse_vm(json_object_array_get_idx(vms, i), path, version, &s->vms[i], e);
                        if (r < 0)
                                return r;
                        for (size_t k = 0; k < i; k++)
                                if (streq(s->vms[k].uuid, s->vms[i].uuid))
                                        return json_error_set(e, path, "duplicate VM %s", s->vms[i].uuid);
                }
        }
        if (devs && json_object_array_length(devs) > 0) {
                size_t n = json_object_array_length(devs);

                s->devices = new0(StateDevice, n);
                if (!s->devices)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++) {
                        char path[JSON_PATH_MAX];

                        json_path_index(path, "devices", i);
                        s->n_devices++;
                        r = parse_device(json_object_array_get_idx(devs, i), path, &s->devices[i], e);
                        if (r < 0)
                                return r;
                        for (size_t k = 0; k < i; k++)
                                if (streq(s->devices[k].name, s->devices[i].name))
                                        return json_error_set(e, path, "duplicate device %s", s->devices[i].name);
                }
        }
        if (ovs && json_object_array_length(ovs) > 0) {
                size_t n = json_object_array_length(ovs);

                s->overrides = new0(PolicyVmOverride, n);
                if (!s->overrides)
                        return -ENOMEM;
                for (size_t i = 0; i < n; i++) {
                        char path[JSON_PATH_MAX];

                        json_path_index(path, "overrides", i);
                        r = policy_vm_override_from_json(json_object_array_get_idx(ovs, i), path, &s->overrides[i], e);
                        if (r < 0)
                                return r;
                        s->n_overrides++;
                }
        }
        *ret = TAKE_PTR(s);
        return 0;
}

/*
 * The state file's text, written straight into one buffer: the same document state_to_json() builds (the tests
 * compare the two), one VM or device per line. Building it as json-c objects first, pretty-printing them and
 * freeing them again cost most of a save on a large host (about 60 ms of CPU for 2,048 VMs and 16,384 devices),
 * and every D-Bus call that changes the model saves before it replies.
 */
typedef struct Text {
        char *p;
        size_t n, allocated;
        bool oom;
} Text;

static void text_add(Text *t, const char *s, size_t len) {
        if (_unlikely_(t->n + len + 1 > t->allocated) && !GREEDY_REALLOC(t->p, t->allocated, t->n + len + 1))
                t->oom = true;
        if (t->oom)
                return;
        memcpy(t->p + t->n, s, len);
        t->n += len;
        t->p[t->n] = 0;
}

static void text_lit(Text *t, const char *s) {
        text_add(t, s, strlen(s));
}

/* By hand: snprintf() was a third of the writer's time, called for every vCPU and device. */
static void text_int(Text *t, int64_t v) {
        char buf[24], *p = buf + sizeof(buf);
        uint64_t u = v < 0 ? -(uint64_t) v : (uint64_t) v;

        do {
                *--p = (char) ('0' + u % 10);
                u /= 10;
        } while (u > 0);
        if (v < 0)
                *--p = '-';
        text_add(t, p, (size_t) (buf + sizeof(buf) - p));
}

/* A JSON string: quotes, backslashes and control characters escaped; everything else (UTF-8 included) as is. */
static void text_string(Text *t, const char *s) {
        const char *run = s;

        text_add(t, "\"", 1);
        for (; *s; s++) {
                unsigned char c = (unsigned char) *s;
                char esc[8];

                if (c >= 0x20 && c != '"' && c != '\\')
                        continue;
                text_add(t, run, (size_t) (s - run));
                if (c == '"' || c == '\\') {
                        esc[0] = '\\';
                        esc[1] = (char) c;
                        text_add(t, esc, 2);
                } else {
                        (void) snprintf(esc, sizeof(esc), "\\u%04x", c);
                        text_add(t, esc, 6);
                }
                run = s + 1;
        }
        text_add(t, run, (size_t) (s - run));
        text_add(t, "\"", 1);
}

static void text_key(Text *t, const char *key) {
        text_lit(t, ", ");
        text_string(t, key);
        text_lit(t, ": ");
}

int state_to_text(const State *s, char **ret, size_t *ret_len) {
        _cleanup_free_ char *p = NULL;
        Text t = {};
        int r;

        assert_return(s && ret, -EINVAL);

        /* About what a VM, a vCPU and a device take: one allocation for most hosts. */
        {
                size_t guess = 4096 + s->n_devices * 128;

                for (size_t i = 0; i < s->n_vms; i++)
                        guess += 192 + s->vms[i].nr_vcpus * 16;
                if (!GREEDY_REALLOC(t.p, t.allocated, guess))
                        return -ENOMEM;
        }
        text_lit(&t, "{\n  \"version\": ");
        text_int(&t, STATE_VERSION);
        text_lit(&t, ",\n  \"comment\": \"Private data of rvmsid. Do not edit.\",\n  \"vms\": [");
        for (size_t i = 0; i < s->n_vms; i++) {
                const StateVm *v = &s->vms[i];

                text_lit(&t, i > 0 ? ",\n    {\"uuid\": " : "\n    {\"uuid\": ");
                text_string(&t, v->uuid);
                if (v->name) {
                        text_key(&t, "name");
                        text_string(&t, v->name);
                }
                text_key(&t, "state");
                text_string(&t, vm_state_to_string(v->state));
                if (v->klass != _CLASS_INVALID) {
                        text_key(&t, "class");
                        text_string(&t, isolation_class_to_string(v->klass));
                }
                if (v->priority_set) {
                        text_key(&t, "priority");
                        text_int(&t, v->priority);
                }
                text_key(&t, "vcpus");
                text_lit(&t, "[");
                for (uint32_t c = 0; c < v->nr_vcpus; c++) {
                        text_lit(&t, c > 0 ? ", {\"hart\": " : "{\"hart\": ");
                        if (v->placement[c] == NO_HART)
                                text_lit(&t, "null");
                        else
                                text_int(&t, v->placement[c]);
                        if (v->n_pin_cpus[c] > 0) {
                                text_key(&t, "cpus");
                                text_lit(&t, "[");
                                for (uint32_t k = 0; k < v->n_pin_cpus[c]; k++) {
                                        if (k > 0)
                                                text_lit(&t, ", ");
                                        text_int(&t, v->pin_cpus[c][k]);
                                }
                                text_lit(&t, "]");
                        }
                        text_lit(&t, "}");
                }
                text_lit(&t, "]}");
        }
        text_lit(&t, s->n_vms > 0 ? "\n  ],\n  \"devices\": [" : "],\n  \"devices\": [");
        for (size_t i = 0; i < s->n_devices; i++) {
                const StateDevice *d = &s->devices[i];

                text_lit(&t, i > 0 ? ",\n    {\"name\": " : "\n    {\"name\": ");
                text_string(&t, d->name);
                text_key(&t, "owner");
                text_string(&t, owner_kind_to_string(d->owner));
                if (d->owner == OWNER_VM) {
                        text_key(&t, "vm");
                        text_string(&t, d->vm);
                }
                if (d->label) {
                        text_key(&t, "label");
                        text_string(&t, d->label);
                }
                text_key(&t, "locked");
                text_lit(&t, d->locked ? "true" : "false");
                text_key(&t, "caps");
                text_int(&t, (int64_t) (d->caps & 0xffffffff));
                text_lit(&t, "}");
        }
        text_lit(&t, s->n_devices > 0 ? "\n  ],\n  \"overrides\": [" : "],\n  \"overrides\": [");
        /* Few and small, and their schema is the policy's: through policy-json.c. */
        for (size_t i = 0; i < s->n_overrides; i++) {
                _cleanup_json_ json_object *o = NULL;
                const char *text;

                r = policy_vm_override_to_json(&s->overrides[i], &o);
                if (r < 0) {
                        free(t.p);
                        return r;
                }
                text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
                if (!text) {
                        free(t.p);
                        return -ENOMEM;
                }
                text_lit(&t, i > 0 ? ",\n    " : "\n    ");
                text_lit(&t, text);
        }
        text_lit(&t, s->n_overrides > 0 ? "\n  ]\n}\n" : "]\n}\n");
        p = t.p;
        if (t.oom)
                return -ENOMEM;
        if (ret_len)
                *ret_len = t.n;
        *ret = TAKE_PTR(p);
        return 0;
}

int state_save(const State *s, const char *path) {
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r;

        assert_return(s, -EINVAL);
        if (isempty(path))
                return 0;       /* test mode */
        r = state_to_text(s, &text, &len);
        if (r < 0)
                return r;
        return write_file_atomic(path, text, len, 0600);
}

#define IN_SET_CORRUPT(r) ((r) == -EBADMSG || (r) == -EINVAL || (r) == -EPROTONOSUPPORT || (r) == -EFBIG)

int state_load(const char *path, State **ret, StateLoadReport *report) {
        _cleanup_json_ json_object *root = NULL;
        StateLoadReport rep = {};
        State *s = NULL;
        int r;

        assert_return(ret, -EINVAL);

        *ret = NULL;
        if (isempty(path)) {
                rep.test_mode = true;
                goto nothing;
        }
        if (access(path, F_OK) < 0) {
                if (errno != ENOENT)
                        return -errno;
                rep.missing = true;
                goto nothing;
        }
        r = json_parse_file(path, &root, &rep.error);
        if (r >= 0)
                r = state_from_json(root, &s, &rep.error);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                /* Corrupt (or unreadable as state): keep it for the administrator, never drop it. */
                int k;

                /* Only bad content is corruption; failing to read the file at all is an error. */
                if (!IN_SET_CORRUPT(r))
                        return r;
                k = snprintf(rep.moved_to, sizeof(rep.moved_to), "%s.corrupt-%lld", path, (long long) time(NULL));
                if (k < 0 || (size_t) k >= sizeof(rep.moved_to))
                        return -ENAMETOOLONG;
                /* Never overwrite an earlier corrupt copy from the same second. */
                for (unsigned n = 1; access(rep.moved_to, F_OK) >= 0 && n < 100; n++)
                        (void) snprintf(rep.moved_to, sizeof(rep.moved_to), "%s.corrupt-%lld.%u", path,
                                        (long long) time(NULL), n);
                if (rename(path, rep.moved_to) < 0)
                        return -errno;
                rep.corrupt = true;
                json_error_set_file(&rep.error, path);
                goto nothing;
        }
        if (report)
                *report = rep;
        *ret = s;
        return 1;

nothing:
        if (report)
                *report = rep;
        return 0;
}

int state_apply(const State *s, Model *m, Policy *p) {
        int dropped = 0, r;

        assert_return(s && m, -EINVAL);

        for (size_t i = 0; i < s->n_vms; i++) {
                const StateVm *v = &s->vms[i];
                Vm *vm = model_find_vm(m, v->uuid);

                if (!vm) {
                        r = model_add_vm(m, v->uuid, v->name, v->nr_vcpus, &vm);
                        if (r == -EEXIST || r == -EINVAL) {
                                dropped++;      /* e.g. its name is now taken by another VM */
                                continue;
                        }
                        if (r < 0)
                                return r;
                }
                (void) model_vm_set_state(m, vm, v->state);
                (void) model_vm_set_class(m, vm, v->klass);
                (void) model_vm_set_priority(m, vm, v->priority_set, v->priority);
                for (uint32_t c = 0; c < MIN(v->nr_vcpus, vm->nr_vcpus); c++) {
                        if (model_vcpu_place(m, vm, c, v->placement[c]) < 0)
                                dropped++;
                        if (v->pinned[c] != NO_HART)
                                /* Version 1: one hart, i.e. the set of its CPU. */
                                r = model_vcpu_pin(m, vm, c, v->pinned[c]);
                        else
                                r = model_vcpu_set_pin_cpus(m, vm, c, v->pin_cpus[c], v->n_pin_cpus[c]);
                        if (r == -ENOMEM)
                                return r;
                        if (r < 0)
                                dropped++;
                }
        }
        for (size_t i = 0; i < s->n_devices; i++) {
                const StateDevice *sd = &s->devices[i];
                Device *d = model_find_device(m, sd->name);

                if (!d) {
                        r = model_add_device(m, sd->name, sd->caps, &d);
                        if (r < 0)
                                return r;
                }
                r = model_device_set_owner(m, d, sd->owner, sd->owner == OWNER_VM ? sd->vm : sd->label);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        dropped++;
                (void) model_device_set_locked(m, d, sd->locked || d->locked);
        }
        if (p)
                for (size_t i = 0; i < s->n_overrides; i++) {
                        r = policy_set_vm_override(p, s->overrides[i].key, &s->overrides[i]);
                        if (r == -ENOMEM)
                                return r;
                        if (r < 0)
                                dropped++;
                }
        return dropped;
}
