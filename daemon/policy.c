/* SPDX-License-Identifier: GPL-2.0-or-later */

#include "policy.h"

int policy_new_default(Policy **ret) {
        Policy *p;

        assert_return(ret, -EINVAL);

        p = new0(Policy, 1);
        if (!p)
                return -ENOMEM;
        /*
         * Defaults (docs/policy.md): host drivers keep the normal host path;
         * userspace drivers are not trusted with shared host files; devices
         * nobody owns cannot interrupt anyone. VMs are balanced.
         */
        p->default_mode[OWNER_NONE] = MODE_BLOCKED;
        p->default_mode[OWNER_HOST] = MODE_IDENTITY;
        p->default_mode[OWNER_VM] = MODE_GUEST_FILE;
        p->default_mode[OWNER_USERSPACE] = MODE_MRIF;
        p->default_class = CLASS_BALANCED;
        p->default_priority = 0;
        p->mrif_fallback = true;
        p->max_guest_files_per_vm = UINT32_MAX;
        *ret = p;
        return 0;
}

static void override_done(PolicyVmOverride *o) {
        o->key = mfree(o->key);
}

Policy *policy_free(Policy *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_vm_overrides; i++)
                override_done(&p->vm_overrides[i]);
        free(p->vm_overrides);
        return mfree(p);
}

int policy_copy(const Policy *p, Policy **ret) {
        _cleanup_(policy_freep) Policy *c = NULL;

        assert_return(p && ret, -EINVAL);

        c = new0(Policy, 1);
        if (!c)
                return -ENOMEM;
        *c = *p;
        c->vm_overrides = NULL;
        c->n_vm_overrides = 0;
        if (p->n_vm_overrides > 0) {
                c->vm_overrides = new0(PolicyVmOverride, p->n_vm_overrides);
                if (!c->vm_overrides)
                        return -ENOMEM;
                for (size_t i = 0; i < p->n_vm_overrides; i++) {
                        c->vm_overrides[i] = p->vm_overrides[i];
                        c->vm_overrides[i].key = strdup(p->vm_overrides[i].key);
                        if (!c->vm_overrides[i].key)
                                return -ENOMEM;
                        c->n_vm_overrides++;
                }
        }
        *ret = TAKE_PTR(c);
        return 0;
}

static bool override_equal(const PolicyVmOverride *a, const PolicyVmOverride *b) {
        return streq(a->key, b->key) && a->klass == b->klass && a->priority_set == b->priority_set &&
               (!a->priority_set || a->priority == b->priority) &&
               a->max_guest_files_set == b->max_guest_files_set &&
               (!a->max_guest_files_set || a->max_guest_files == b->max_guest_files);
}

bool policy_equal(const Policy *a, const Policy *b) {
        if (!a || !b)
                return a == b;
        for (int k = 0; k < _OWNER_KIND_MAX; k++)
                if (k != OWNER_VM && a->default_mode[k] != b->default_mode[k])
                        return false;
        if (a->default_class != b->default_class || a->default_priority != b->default_priority ||
            a->mrif_fallback != b->mrif_fallback || a->max_guest_files_per_vm != b->max_guest_files_per_vm ||
            a->n_vm_overrides != b->n_vm_overrides)
                return false;
        for (size_t i = 0; i < a->n_vm_overrides; i++)
                if (!override_equal(&a->vm_overrides[i], &b->vm_overrides[i]))
                        return false;
        return true;
}

static size_t overrides_lower_bound(const Policy *p, const char *key) {
        size_t lo = 0, hi = p->n_vm_overrides;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (strcmp(p->vm_overrides[mid].key, key) < 0)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

/* UUIDs are matched in canonical form, names as given. */
static void override_key_canonical(const char *key, char buf[static 256], const char **ret) {
        char u[UUID_STRING_MAX];

        if (uuid_normalize(key, u) >= 0) {
                memcpy(buf, u, sizeof(u));
                *ret = buf;
        } else
                *ret = key;
}

static const PolicyVmOverride *policy_find_key(const Policy *p, const char *key) {
        size_t i = overrides_lower_bound(p, key);

        if (i < p->n_vm_overrides && streq(p->vm_overrides[i].key, key))
                return &p->vm_overrides[i];
        return NULL;
}

int policy_set_vm_override(Policy *p, const char *key, const PolicyVmOverride *o) {
        char buf[256];
        const char *k;
        PolicyVmOverride *slot;
        size_t i;

        assert_return(p && o, -EINVAL);
        if (isempty(key) || vm_name_validate(key) < 0)
                return -EINVAL;
        if (o->klass != _CLASS_INVALID && (o->klass < 0 || o->klass >= _CLASS_MAX))
                return -EINVAL;
        if (o->priority_set && (o->priority < POLICY_PRIORITY_MIN || o->priority > POLICY_PRIORITY_MAX))
                return -ERANGE;
        if (o->max_guest_files_set && o->max_guest_files > VM_MAX_VCPUS)
                return -ERANGE;

        override_key_canonical(key, buf, &k);
        i = overrides_lower_bound(p, k);
        if (i < p->n_vm_overrides && streq(p->vm_overrides[i].key, k))
                slot = &p->vm_overrides[i];
        else {
                _cleanup_free_ char *dup = strdup(k);
                PolicyVmOverride *n;

                if (!dup)
                        return -ENOMEM;
                n = realloc(p->vm_overrides, (p->n_vm_overrides + 1) * sizeof(PolicyVmOverride));
                if (!n)
                        return -ENOMEM;
                p->vm_overrides = n;
                memmove(n + i + 1, n + i, (p->n_vm_overrides - i) * sizeof(PolicyVmOverride));
                p->n_vm_overrides++;
                slot = &n[i];
                slot->key = TAKE_PTR(dup);
        }
        slot->klass = o->klass;
        slot->priority_set = o->priority_set;
        slot->priority = o->priority_set ? o->priority : 0;
        slot->max_guest_files_set = o->max_guest_files_set;
        slot->max_guest_files = o->max_guest_files_set ? o->max_guest_files : 0;
        return 0;
}

int policy_remove_vm_override(Policy *p, const char *key) {
        char buf[256];
        const char *k;
        size_t i;

        assert_return(p && key, -EINVAL);
        override_key_canonical(key, buf, &k);
        i = overrides_lower_bound(p, k);
        if (i >= p->n_vm_overrides || !streq(p->vm_overrides[i].key, k))
                return -ENOENT;
        override_done(&p->vm_overrides[i]);
        memmove(p->vm_overrides + i, p->vm_overrides + i + 1,
                (p->n_vm_overrides - i - 1) * sizeof(PolicyVmOverride));
        p->n_vm_overrides--;
        return 0;
}

const PolicyVmOverride *policy_find_vm_override(const Policy *p, const Vm *vm) {
        const PolicyVmOverride *o;

        if (!p || !vm || p->n_vm_overrides == 0)
                return NULL;
        o = policy_find_key(p, vm->uuid);
        if (o)
                return o;
        if (vm->name)
                return policy_find_key(p, vm->name);
        return NULL;
}

IsolationClass policy_vm_class(const Policy *p, const Vm *vm) {
        const PolicyVmOverride *o = policy_find_vm_override(p, vm);

        if (o && o->klass != _CLASS_INVALID)
                return o->klass;
        if (vm->klass != _CLASS_INVALID)
                return vm->klass;
        return p->default_class;
}

int32_t policy_vm_priority(const Policy *p, const Vm *vm) {
        const PolicyVmOverride *o = policy_find_vm_override(p, vm);

        if (o && o->priority_set)
                return o->priority;
        if (vm->priority_set)
                return vm->priority;
        return p->default_priority;
}

uint32_t policy_vm_max_guest_files(const Policy *p, const Vm *vm) {
        const PolicyVmOverride *o = policy_find_vm_override(p, vm);

        if (o && o->max_guest_files_set)
                return o->max_guest_files;
        return p->max_guest_files_per_vm;
}

DeliveryMode policy_owner_mode(const Policy *p, OwnerKind owner) {
        if (owner < 0 || owner >= _OWNER_KIND_MAX)
                return MODE_BLOCKED;
        return p->default_mode[owner];
}
