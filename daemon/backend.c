/* SPDX-License-Identifier: GPL-2.0-or-later */

#include "backend.h"

static const char *const op_type_table[_OP_TYPE_MAX] = {
        [OP_SET_MODE] = "set-mode",
        [OP_VCPU_RELEASE] = "vcpu-release",
        [OP_VCPU_ASSIGN] = "vcpu-assign",
};

const char *op_type_to_string(OpType t) {
        if ((int) t < 0 || t >= _OP_TYPE_MAX)
                return NULL;
        return op_type_table[t];
}

Actual *actual_free(Actual *a) {
        if (!a)
                return NULL;
        for (size_t i = 0; i < a->devices.n_devices; i++)
                device_state_done(&a->devices.devices[i]);
        free(a->devices.devices);
        for (size_t i = 0; i < a->n_vms; i++)
                free(a->vms[i].vcpus);
        free(a->vms);
        return mfree(a);
}

int actual_new(Actual **ret) {
        assert_return(ret, -EINVAL);
        *ret = new0(Actual, 1);
        return *ret ? 0 : -ENOMEM;
}

int actual_put_vm(Actual *a, VmGrants *g) {
        VmGrants *n;
        size_t i;

        assert_return(a && g, -EINVAL);

        /* A read-back asks for a few VMs: from the end, where they mostly go. */
        for (i = a->n_vms; i > 0 && strcmp(a->vms[i - 1].uuid, g->uuid) >= 0; i--)
                if (streq(a->vms[i - 1].uuid, g->uuid)) {
                        free(a->vms[i - 1].vcpus);
                        a->vms[i - 1] = *g;
                        g->vcpus = NULL;
                        return 0;
                }
        n = realloc(a->vms, (a->n_vms + 1) * sizeof(VmGrants));
        if (!n) {
                g->vcpus = mfree(g->vcpus);
                return -ENOMEM;
        }
        a->vms = n;
        memmove(a->vms + i + 1, a->vms + i, (a->n_vms - i) * sizeof(VmGrants));
        a->vms[i] = *g;
        a->n_vms++;
        g->vcpus = NULL;
        return 0;
}

int actual_to_json(const Actual *a, json_object **ret) {
        _cleanup_json_ json_object *o = NULL;
        json_object *devs, *vms;

        assert_return(a && ret, -EINVAL);

        o = json_object_new_object();
        devs = json_object_new_array();
        vms = json_object_new_array();
        if (!o || !devs || !vms) {
                json_object_put(devs);
                json_object_put(vms);
                return -ENOMEM;
        }
        if (json_object_object_add(o, "devices", devs) < 0) {
                json_object_put(devs);
                json_object_put(vms);
                return -ENOMEM;
        }
        if (json_object_object_add(o, "vms", vms) < 0) {
                json_object_put(vms);
                return -ENOMEM;
        }
        for (size_t i = 0; i < a->devices.n_devices; i++) {
                json_object *v;
                int r;

                r = device_state_to_json(&a->devices.devices[i], &v);
                if (r < 0)
                        return r;
                if (json_object_array_add(devs, v) < 0) {
                        json_object_put(v);
                        return -ENOMEM;
                }
        }
        for (size_t i = 0; i < a->n_vms; i++) {
                json_object *vo = json_object_new_object(), *vc = json_object_new_array();

                if (!vo || !vc || json_object_array_add(vms, vo) < 0) {
                        json_object_put(vo);
                        json_object_put(vc);
                        return -ENOMEM;
                }
                if (json_object_object_add(vo, "uuid", json_object_new_string(a->vms[i].uuid)) < 0 ||
                    json_object_object_add(vo, "vcpus", vc) < 0) {
                        json_object_put(vc);
                        return -ENOMEM;
                }
                for (uint32_t v = 0; v < a->vms[i].nr_vcpus; v++) {
                        json_object *c = json_object_new_object();

                        if (!c || json_object_array_add(vc, c) < 0) {
                                json_object_put(c);
                                return -ENOMEM;
                        }
                        if (a->vms[i].vcpus[v].hart != NO_HART)
                                (void) json_object_object_add(c, "hart", json_object_new_int64(a->vms[i].vcpus[v].hart));
                        (void) json_object_object_add(c, "guest_file", json_object_new_int64(a->vms[i].vcpus[v].guest));
                }
        }
        *ret = TAKE_PTR(o);
        return 0;
}

int backend_new(const BackendOps *ops, const char *args, Backend **ret) {
        _cleanup_free_ Backend *b = NULL;
        int r;

        assert_return(ops && ops->name && ops->open && ops->dump && ops->apply && ops->get_geometry, -EINVAL);
        assert_return(ret, -EINVAL);

        b = new0(Backend, 1);
        if (!b)
                return -ENOMEM;
        b->ops = ops;
        r = ops->open(b, args);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(b);
        return 0;
}

Backend *backend_free(Backend *b) {
        if (!b)
                return NULL;
        if (b->ops->close)
                b->ops->close(b);
        return mfree(b);
}

void backend_set_handler(Backend *b, backend_event_handler_t handler, void *userdata) {
        if (!b)
                return;
        b->handler = handler;
        b->handler_userdata = userdata;
}

void backend_emit(Backend *b, const BackendEvent *ev) {
        if (b && b->handler)
                b->handler(b, ev, b->handler_userdata);
}

int backend_get_geometry(Backend *b, Geometry *ret) {
        assert_return(b && ret, -EINVAL);
        return b->ops->get_geometry(b, ret);
}

int backend_dump(Backend *b, Actual **ret) {
        assert_return(b && ret, -EINVAL);
        return b->ops->dump(b, ret);
}

int backend_apply(Backend *b, const Op *op) {
        assert_return(b && op, -EINVAL);
        assert_return(op->type >= 0 && op->type < _OP_TYPE_MAX, -EINVAL);
        if (op->type != OP_SET_MODE && !backend_has_feature(b, BACKEND_FEATURE_GUEST_FILES))
                return -EOPNOTSUPP;
        return b->ops->apply(b, op);
}
