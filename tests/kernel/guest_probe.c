/* guest_probe: /init of the passthru kernel harness initramfs.
 *
 * Loads the VFIO modules, binds one PCI device to vfio-pci, reports the IOMMU group's
 * reserved regions, then does the type1 container sequence and a few MAP/UNMAP vectors
 * (SEMANTICS A13, E1, N). Every result line is "PROBE key=value ..."; the last is
 * "PROBE done". Then the guest powers off.
 *
 * Kernel command line parameters read (from /proc/cmdline):
 *   probe.pciid=VVVV:DDDD   PCI vendor:device to pass through (default 1234:11e8, QEMU edu)
 *   probe.unsafe=1          load vfio_iommu_type1 with allow_unsafe_interrupts=1
 *   probe.retry_unsafe=0    do not retry SET_IOMMU after EPERM with the parameter set at
 *                           run time (default 1: retry, reported as set_iommu_retry_unsafe)
 *
 * Build: gcc -static -O2 -o init guest_probe.c (aarch64-linux-gnu-gcc for arm64).
 * Written for the passthru project; uses only the kernel uapi headers.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/reboot.h>
#include <linux/vfio.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#ifndef VFIO_UPDATE_VADDR
#define VFIO_UPDATE_VADDR 10
#endif
#ifndef VFIO_DMA_MAP_FLAG_VADDR
#define VFIO_DMA_MAP_FLAG_VADDR (1 << 2)
#endif

static char cmdline[4096];
static char pci_addr[64];
static int unsafe_param, retry_unsafe = 1;
static unsigned pci_vendor = 0x1234, pci_device = 0x11e8;

static void out(const char *fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 2, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if (n > (int)sizeof buf - 2) n = sizeof buf - 2;
    buf[n++] = '\n';
    /* one write per line so kernel messages do not split it */
    ssize_t w = write(1, "PROBE ", 6);
    w = write(1, buf, n);
    (void)w;
}

static const char *ename(int e) {
    static char buf[32];
    switch (e) {
    case 0: return "0";
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EIO: return "EIO";
    case ENXIO: return "ENXIO";
    case EBADF: return "EBADF";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EFAULT: return "EFAULT";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case ENODEV: return "ENODEV";
    case EINVAL: return "EINVAL";
    case ENOSPC: return "ENOSPC";
    case ENOTTY: return "ENOTTY";
    case ERANGE: return "ERANGE";
    case ENOSYS: return "ENOSYS";
    case EOVERFLOW: return "EOVERFLOW";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EADDRINUSE: return "EADDRINUSE";
    case ENOEXEC: return "ENOEXEC";
    case EKEYREJECTED: return "EKEYREJECTED";
    }
    snprintf(buf, sizeof buf, "E%d", e);
    return buf;
}

static int read_file(const char *path, char *buf, size_t len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    size_t got = 0;
    while (got + 1 < len) {
        ssize_t r = read(fd, buf + got, len - 1 - got);
        if (r < 0) { int e = errno; close(fd); return -e; }
        if (r == 0) break;
        got += (size_t)r;
    }
    buf[got] = 0;
    close(fd);
    return (int)got;
}

static int write_file(const char *path, const char *s) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    ssize_t w = write(fd, s, strlen(s));
    int e = w < 0 ? errno : 0;
    close(fd);
    return e;
}

static void chomp(char *s) {
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' ')) s[--n] = 0;
}

static const char *param(const char *key) { /* value of key= in cmdline, or NULL */
    static char val[256];
    size_t kl = strlen(key);
    for (const char *p = cmdline; (p = strstr(p, key)); p += kl) {
        if ((p == cmdline || p[-1] == ' ') && p[kl] == '=') {
            const char *v = p + kl + 1;
            size_t n = strcspn(v, " \n");
            if (n >= sizeof val) n = sizeof val - 1;
            memcpy(val, v, n);
            val[n] = 0;
            return val;
        }
    }
    return NULL;
}

static double uptime(void) {
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- environment -------------------------------------------------------------------- */

static void setup_fs(void) {
    mkdir("/proc", 0755);
    mkdir("/sys", 0755);
    mkdir("/dev", 0755);
    mount("proc", "/proc", "proc", 0, NULL);
    mount("sysfs", "/sys", "sysfs", 0, NULL);
    mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
    if (fcntl(1, F_GETFD) < 0) {
        int fd = open("/dev/console", O_RDWR);
        if (fd >= 0) { dup2(fd, 0); dup2(fd, 1); dup2(fd, 2); if (fd > 2) close(fd); }
    }
    /* keep console=quiet-ish: kernel messages at warning and below go to the log only */
    write_file("/proc/sys/kernel/printk", "3 4 1 3");
}

static void report_system(void) {
    struct utsname u;
    uname(&u);
    out("uname_release=%s", u.release);
    out("uname_version=%s", u.version);
    out("uname_machine=%s", u.machine);
    out("cmdline=%s", cmdline);
}

static void load_modules(void) {
    char order[4096];
    if (read_file("/modules/order", order, sizeof order) < 0) {
        out("modules_order=missing");
        return;
    }
    for (char *save = NULL, *name = strtok_r(order, "\n", &save); name;
         name = strtok_r(NULL, "\n", &save)) {
        char path[256];
        snprintf(path, sizeof path, "/modules/%s", name);
        const char *params = "";
        if (unsafe_param && strncmp(name, "vfio_iommu_type1", 16) == 0)
            params = "allow_unsafe_interrupts=1";
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) { out("module=%s errno=%s open", name, ename(errno)); continue; }
        long r = syscall(SYS_finit_module, fd, params, 0);
        int e = r < 0 ? errno : 0;
        close(fd);
        out("module=%s params=%s errno=%s", name, *params ? params : "-", ename(e));
    }
    char v[32];
    if (read_file("/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", v, sizeof v) > 0) {
        chomp(v);
        out("param allow_unsafe_interrupts=%s", v);
    }
}

static int find_device(void) {
    double until = uptime() + 30;
    do {
        DIR *d = opendir("/sys/bus/pci/devices");
        struct dirent *de;
        while (d && (de = readdir(d))) {
            if (de->d_name[0] == '.') continue;
            char p[512], b[32];
            unsigned ven = 0, dev = 0;
            snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/vendor", de->d_name);
            if (read_file(p, b, sizeof b) > 0) ven = (unsigned)strtoul(b, NULL, 16);
            snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/device", de->d_name);
            if (read_file(p, b, sizeof b) > 0) dev = (unsigned)strtoul(b, NULL, 16);
            if (ven == pci_vendor && dev == pci_device) {
                snprintf(pci_addr, sizeof pci_addr, "%.63s", de->d_name);
                closedir(d);
                return 0;
            }
        }
        if (d) closedir(d);
        sleep_ms(200);
    } while (uptime() < until);
    return -1;
}

static void list_pci(void) {
    DIR *d = opendir("/sys/bus/pci/devices");
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char p[512], ven[16] = "", dev[16] = "", cls[16] = "", grp[256] = "", drv[256] = "";
        snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/vendor", de->d_name);
        read_file(p, ven, sizeof ven); chomp(ven);
        snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/device", de->d_name);
        read_file(p, dev, sizeof dev); chomp(dev);
        snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/class", de->d_name);
        read_file(p, cls, sizeof cls); chomp(cls);
        snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/iommu_group", de->d_name);
        ssize_t n = readlink(p, grp, sizeof grp - 1);
        grp[n > 0 ? n : 0] = 0;
        snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/driver", de->d_name);
        n = readlink(p, drv, sizeof drv - 1);
        drv[n > 0 ? n : 0] = 0;
        const char *g = strrchr(grp, '/'), *dr = strrchr(drv, '/');
        out("pci dev=%s id=%s:%s class=%s group=%s driver=%s", de->d_name, ven + 2, dev + 2, cls,
            g ? g + 1 : "none", dr ? dr + 1 : "none");
    }
    if (d) closedir(d);
}

static void report_group(const char *group) {
    char p[512], buf[8192];
    snprintf(p, sizeof p, "/sys/kernel/iommu_groups/%s/type", group);
    if (read_file(p, buf, sizeof buf) > 0) { chomp(buf); out("group_type=%s", buf); }
    snprintf(p, sizeof p, "/sys/kernel/iommu_groups/%s/devices", group);
    DIR *d = opendir(p);
    struct dirent *de;
    while (d && (de = readdir(d)))
        if (de->d_name[0] != '.') out("group_device=%s", de->d_name);
    if (d) closedir(d);
    snprintf(p, sizeof p, "/sys/kernel/iommu_groups/%s/reserved_regions", group);
    int n = read_file(p, buf, sizeof buf);
    if (n < 0) { out("reserved_regions errno=%s", ename(-n)); return; }
    int count = 0;
    for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        unsigned long long s, e;
        char type[64];
        if (sscanf(l, "%llx %llx %63s", &s, &e, type) == 3)
            out("resv_region start=0x%llx end=0x%llx type=%s", s, e, type);
        else
            out("resv_region raw=%s", l);
        count++;
    }
    out("resv_region_count=%d", count);
}

/* Every group's reserved regions, to see the type strings other devices get. */
static void report_all_groups(void) {
    DIR *d = opendir("/sys/kernel/iommu_groups");
    struct dirent *de;
    while (d && (de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        char p[512], b[4096];
        snprintf(p, sizeof p, "/sys/kernel/iommu_groups/%s/reserved_regions", de->d_name);
        if (read_file(p, b, sizeof b) < 0) continue;
        for (char *save = NULL, *l = strtok_r(b, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
            out("all_groups group=%s region=%s", de->d_name, l);
    }
    if (d) closedir(d);
}

static int bind_vfio(void) {
    char p[512], drv[256];
    snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/driver_override", pci_addr);
    int e = write_file(p, "vfio-pci");
    out("driver_override errno=%s", ename(e));
    snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/driver", pci_addr);
    ssize_t n = readlink(p, drv, sizeof drv - 1);
    if (n > 0) {
        drv[n] = 0;
        snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/driver/unbind", pci_addr);
        e = write_file(p, pci_addr);
        out("unbind from=%s errno=%s", strrchr(drv, '/') + 1, ename(e));
    }
    e = write_file("/sys/bus/pci/drivers/vfio-pci/bind", pci_addr);
    out("bind driver=vfio-pci errno=%s", ename(e));
    return e;
}

/* ---- VFIO ----------------------------------------------------------------------------- */

static int container = -1, groupfd = -1;
static void *buf;
static const size_t buf_len = 4 << 20;

static uint64_t last_iova_end; /* inclusive end of the highest usable IOVA range */

static void get_info(const char *tag) {
    struct vfio_iommu_type1_info probe = {.argsz = sizeof probe};
    if (ioctl(container, VFIO_IOMMU_GET_INFO, &probe)) {
        out("get_info tag=%s errno=%s", tag, ename(errno));
        return;
    }
    uint32_t need = probe.argsz;
    struct vfio_iommu_type1_info *info = calloc(1, need + 64);
    info->argsz = need;
    if (ioctl(container, VFIO_IOMMU_GET_INFO, info)) {
        out("get_info tag=%s errno=%s", tag, ename(errno));
        free(info);
        return;
    }
    out("get_info tag=%s errno=0 flags=0x%x argsz=%u cap_offset=%u iova_pgsizes=0x%llx", tag,
        info->flags, need, info->cap_offset, (unsigned long long)info->iova_pgsizes);
    uint32_t off = (info->flags & VFIO_IOMMU_INFO_CAPS) ? info->cap_offset : 0;
    int guard = 0;
    while (off && off + sizeof(struct vfio_info_cap_header) <= need && guard++ < 16) {
        struct vfio_info_cap_header *h = (void *)((char *)info + off);
        out("cap tag=%s offset=%u id=%u version=%u next=%u", tag, off, h->id, h->version, h->next);
        if (h->id == VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
            struct vfio_iommu_type1_info_cap_iova_range *r = (void *)h;
            out("iova_ranges tag=%s nr=%u", tag, r->nr_iovas);
            for (uint32_t i = 0; i < r->nr_iovas; i++) {
                out("iova_range tag=%s start=0x%llx end=0x%llx", tag,
                    (unsigned long long)r->iova_ranges[i].start,
                    (unsigned long long)r->iova_ranges[i].end);
                last_iova_end = r->iova_ranges[i].end;
            }
        } else if (h->id == VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION) {
            struct vfio_iommu_type1_info_cap_migration *m = (void *)h;
            out("cap_migration tag=%s flags=0x%x pgsize_bitmap=0x%llx max_dirty_bitmap_size=0x%llx",
                tag, m->flags, (unsigned long long)m->pgsize_bitmap,
                (unsigned long long)m->max_dirty_bitmap_size);
        } else if (h->id == VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL) {
            struct vfio_iommu_type1_info_dma_avail *a = (void *)h;
            out("cap_dma_avail tag=%s avail=%u", tag, a->avail);
        }
        off = h->next;
    }
    free(info);
}

static int vec_no;

static void map_vec(const char *what, uint64_t iova, uint64_t size, uint32_t flags,
                    int expect, void *vaddr) {
    struct vfio_iommu_type1_dma_map m = {.argsz = sizeof m, .flags = flags,
                                         .vaddr = (uintptr_t)vaddr, .iova = iova, .size = size};
    int e = ioctl(container, VFIO_IOMMU_MAP_DMA, &m) ? errno : 0;
    out("vec=%d op=map what=%s iova=0x%llx size=0x%llx flags=0x%x errno=%s expect=%s%s", ++vec_no,
        what, (unsigned long long)iova, (unsigned long long)size, flags, ename(e), ename(expect),
        e == expect ? "" : " MISMATCH");
}

static void unmap_vec(const char *what, uint64_t iova, uint64_t size, uint32_t flags,
                      int expect, long long expect_size) {
    struct vfio_iommu_type1_dma_unmap u = {.argsz = sizeof u, .flags = flags, .iova = iova,
                                           .size = size};
    int e = ioctl(container, VFIO_IOMMU_UNMAP_DMA, &u) ? errno : 0;
    int bad = e != expect || (e == 0 && expect_size >= 0 && (long long)u.size != expect_size);
    out("vec=%d op=unmap what=%s iova=0x%llx size=0x%llx flags=0x%x errno=%s unmapped=0x%llx "
        "expect=%s expect_unmapped=0x%llx%s",
        ++vec_no, what, (unsigned long long)iova, (unsigned long long)size, flags, ename(e),
        e ? 0ULL : (unsigned long long)u.size, ename(expect),
        (unsigned long long)(expect_size < 0 ? 0 : expect_size), bad ? " MISMATCH" : "");
}

static void dma_vectors(int is_x86) {
    const uint32_t RW = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE;
    char *b = buf;
    /* SEMANTICS N1..N16 (numbers in `what`) */
    map_vec("N1", 0x1000, 0x1000, RW, 0, b);
    get_info("after_N1");
    map_vec("N2_same", 0x1000, 0x1000, RW, EEXIST, b);
    map_vec("N3_misaligned_iova", 0x1800, 0x1000, RW, EINVAL, b);
    map_vec("N4_size0", 0x2000, 0, RW, EINVAL, b);
    map_vec("N5_flags0", 0x2000, 0x1000, 0, EINVAL, b);
    map_vec("N6_read_vaddr", 0x2000, 0x1000, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_VADDR,
            EINVAL, b);
    if (is_x86) {
        map_vec("N7_msi_window", 0xFEE00000, 0x1000, RW, EINVAL, b);
        map_vec("N8_span_msi_edge", 0xFEDFF000, 0x2000, RW, EINVAL, b);
    } else {
        map_vec("N7_sw_msi_window", 0x8000000, 0x1000, RW, EINVAL, b);
        map_vec("N8_span_sw_msi_edge", 0x7FFF000, 0x2000, RW, EINVAL, b);
    }
    map_vec("N10_wrap", 0xFFFFFFFFFFFFF000ULL, 0x2000, RW, EINVAL, b);
    unmap_vec("N11_half_page", 0x1000, 0x800, 0, EINVAL, -1);
    unmap_vec("N12_covering", 0, 0x10000, 0, 0, 0x1000);
    unmap_vec("N13_empty", 0, 0x10000, 0, 0, 0);
    map_vec("N14_map", 0x10000, 0x4000, RW, 0, b);
    unmap_vec("N14_unmap_inside", 0x11000, 0x1000, 0, EINVAL, -1);
    unmap_vec("N15_unmap_front_overlap", 0xF000, 0x2000, 0, EINVAL, -1);
    unmap_vec("N16_all_with_iova", 0x1000, 0, VFIO_DMA_UNMAP_FLAG_ALL, EINVAL, -1);
    unmap_vec("unmap_all", 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, 0, 0x4000);
    /* a 2 MiB-aligned 2 MiB map (superpage candidate) */
    char *big = (char *)(((uintptr_t)b + 0x1FFFFF) & ~(uintptr_t)0x1FFFFF);
    map_vec("map_2M", 0x200000, 0x200000, RW, 0, big);
    unmap_vec("unmap_2M_first_4K", 0x200000, 0x1000, 0, EINVAL, -1);
    unmap_vec("unmap_2M", 0x200000, 0x200000, 0, 0, 0x200000);

    /* End of the usable IOVA space (SEMANTICS B8, L map_limit, M late-2025 row). The
     * expectations are the post-2025 ones (L.map_limit.unmap_range / unmap_all). Where the
     * aperture ends at 2^64-1 (AMD-Vi v1), a mapping of the last page ends exactly at 2^64. */
    if (last_iova_end) {
        uint64_t last_page = last_iova_end + 1 - 0x1000;
        if (last_iova_end != UINT64_MAX)
            map_vec("N9_beyond_aperture", last_iova_end + 1, 0x1000, RW, EINVAL, b);
        map_vec("E1_map_last_page", last_page, 0x1000, RW, 0, b);
        unmap_vec("E2_unmap_last_page", last_page, 0x1000, 0, 0, 0x1000);
        map_vec("E3_map_last_page_again", last_page, 0x1000, RW, 0, b);
        map_vec("E4_map_low", 0x10000, 0x4000, RW, 0, b);
        unmap_vec("E5_unmap_all", 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, 0, 0x5000);
        unmap_vec("E6_unmap_low_again", 0x10000, 0x4000, 0, 0, 0);
        unmap_vec("E7_unmap_last_page_again", last_page, 0x1000, 0, 0, 0);
    }
}

static void report_interrupts(const char *tag, const char *filter) {
    static char ib[65536];
    if (read_file("/proc/interrupts", ib, sizeof ib) < 0) return;
    for (char *save = NULL, *l = strtok_r(ib, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        if (filter && !strstr(l, filter)) continue;
        while (*l == ' ') l++;
        out("interrupts tag=%s line=%s", tag, l);
    }
}

static void device_irqs(const char *group) {
    (void)group;
    int dev = ioctl(groupfd, VFIO_GROUP_GET_DEVICE_FD, pci_addr);
    out("get_device_fd errno=%s", ename(dev < 0 ? errno : 0));
    if (dev < 0) return;
    struct vfio_device_info di = {.argsz = sizeof di};
    if (ioctl(dev, VFIO_DEVICE_GET_INFO, &di) == 0)
        out("device_info flags=0x%x num_regions=%u num_irqs=%u", di.flags, di.num_regions,
            di.num_irqs);
    static const char *names[] = {"INTX", "MSI", "MSIX", "ERR", "REQ"};
    for (uint32_t i = 0; i < di.num_irqs && i < 5; i++) {
        struct vfio_irq_info ii = {.argsz = sizeof ii, .index = i};
        if (ioctl(dev, VFIO_DEVICE_GET_IRQ_INFO, &ii) == 0)
            out("irq_info index=%s flags=0x%x count=%u", names[i], ii.flags, ii.count);
    }
    /* Enable one MSI (or MSI-X) vector: the kernel allocates it from the device's MSI irq
     * domain, whose chip name /proc/interrupts then shows. */
    for (uint32_t idx = VFIO_PCI_MSI_IRQ_INDEX; idx <= VFIO_PCI_MSIX_IRQ_INDEX; idx++) {
        struct vfio_irq_info ii = {.argsz = sizeof ii, .index = idx};
        if (ioctl(dev, VFIO_DEVICE_GET_IRQ_INFO, &ii) || ii.count == 0) continue;
        int efd = eventfd(0, EFD_CLOEXEC);
        char sb[sizeof(struct vfio_irq_set) + sizeof(int)];
        struct vfio_irq_set *s = (void *)sb;
        s->argsz = sizeof sb;
        s->flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
        s->index = idx;
        s->start = 0;
        s->count = 1;
        memcpy(s->data, &efd, sizeof efd);
        int e = ioctl(dev, VFIO_DEVICE_SET_IRQS, s) ? errno : 0;
        out("set_irqs index=%s errno=%s", names[idx], ename(e));
        if (e == 0) {
            report_interrupts(names[idx], "vfio");
            struct vfio_irq_set off = {.argsz = sizeof off,
                                       .flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
                                       .index = idx, .start = 0, .count = 0};
            ioctl(dev, VFIO_DEVICE_SET_IRQS, &off);
        }
        close(efd);
        break;
    }
    close(dev);
}

static void vfio_sequence(const char *group, int is_x86) {
    container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
    out("open_container errno=%s", ename(container < 0 ? errno : 0));
    if (container < 0) return;
    out("api_version=%d", ioctl(container, VFIO_GET_API_VERSION));
    static const struct { int ext; const char *name; } exts[] = {
        {VFIO_TYPE1_IOMMU, "TYPE1"}, {VFIO_TYPE1v2_IOMMU, "TYPE1v2"},
        {VFIO_DMA_CC_IOMMU, "DMA_CC_IOMMU"}, {6, "TYPE1_NESTING"},
        {VFIO_UNMAP_ALL, "UNMAP_ALL"}, {VFIO_UPDATE_VADDR, "UPDATE_VADDR"},
        {VFIO_NOIOMMU_IOMMU, "NOIOMMU"}};
    for (unsigned i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        int r = ioctl(container, VFIO_CHECK_EXTENSION, exts[i].ext);
        out("check_extension when=before_set_iommu ext=%s ret=%d", exts[i].name, r);
    }
    char p[64];
    snprintf(p, sizeof p, "/dev/vfio/%s", group);
    for (int i = 0; i < 50 && access(p, F_OK); i++) sleep_ms(100);
    groupfd = open(p, O_RDWR | O_CLOEXEC);
    out("open_group path=%s errno=%s", p, ename(groupfd < 0 ? errno : 0));
    if (groupfd < 0) return;
    struct vfio_group_status st = {.argsz = sizeof st};
    int e = ioctl(groupfd, VFIO_GROUP_GET_STATUS, &st) ? errno : 0;
    out("group_status errno=%s flags=0x%x viable=%d", ename(e), st.flags,
        !!(st.flags & VFIO_GROUP_FLAGS_VIABLE));
    e = ioctl(groupfd, VFIO_GROUP_SET_CONTAINER, &container) ? errno : 0;
    out("set_container errno=%s", ename(e));
    if (e) return;
    e = ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) ? errno : 0;
    out("set_iommu type=TYPE1v2 errno=%s allow_unsafe_interrupts=%d", ename(e), unsafe_param);
    if (e == EPERM && retry_unsafe) {
        /* Secondary: the same attach with the module parameter switched on at run time
         * (0644 parameter). Lets the rest of the probe run on refused platforms. */
        int we = write_file("/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "1");
        e = ioctl(container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) ? errno : 0;
        out("set_iommu_retry_unsafe type=TYPE1v2 param_write_errno=%s errno=%s", ename(we),
            ename(e));
    }
    if (e) return;
    for (unsigned i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        int r = ioctl(container, VFIO_CHECK_EXTENSION, exts[i].ext);
        out("check_extension when=after_set_iommu ext=%s ret=%d", exts[i].name, r);
    }
    get_info("initial");
    {   /* GET_INFO with argsz = 16 (minsz) and 24 (no room for caps): SEMANTICS E1 */
        struct vfio_iommu_type1_info small = {.argsz = 16};
        e = ioctl(container, VFIO_IOMMU_GET_INFO, &small) ? errno : 0;
        out("get_info_argsz16 errno=%s argsz_out=%u flags=0x%x", ename(e), small.argsz, small.flags);
        struct vfio_iommu_type1_info hdr = {.argsz = 24};
        e = ioctl(container, VFIO_IOMMU_GET_INFO, &hdr) ? errno : 0;
        out("get_info_argsz24 errno=%s argsz_out=%u flags=0x%x cap_offset=%u", ename(e), hdr.argsz,
            hdr.flags, hdr.cap_offset);
        struct vfio_iommu_type1_info tiny = {.argsz = 15};
        e = ioctl(container, VFIO_IOMMU_GET_INFO, &tiny) ? errno : 0;
        out("get_info_argsz15 errno=%s", ename(e));
    }
    buf = mmap(NULL, buf_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (buf == MAP_FAILED) { out("mmap errno=%s", ename(errno)); return; }
    memset(buf, 0x5a, buf_len);
    dma_vectors(is_x86);
    get_info("final");
    device_irqs(group);
}

static void report_klog(void) {
    static char lb[1 << 20];
    int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, lb, sizeof lb - 1);
    if (n <= 0) return;
    lb[n] = 0;
    static const char *keys[] = {"DMAR", "IOMMU", "iommu", "AMD-Vi", "ITS", "GICv2m", "v2m",
                                 "GIC", "remapping", "Remapping", "vfio", "VFIO", "smmu",
                                 "SMMU", "MSI", "x2apic", "pci 0000", "Kernel command line"};
    for (char *save = NULL, *l = strtok_r(lb, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        for (unsigned i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            if (strstr(l, keys[i])) {
                if (strstr(l, "pci 0000") && !strstr(l, pci_addr[0] ? pci_addr : "@@")) break;
                out("klog=%s", l);
                break;
            }
        }
    }
}

int main(void) {
    setup_fs();
    read_file("/proc/cmdline", cmdline, sizeof cmdline);
    chomp(cmdline);
    const char *v;
    if ((v = param("probe.unsafe"))) unsafe_param = atoi(v);
    if ((v = param("probe.retry_unsafe"))) retry_unsafe = atoi(v);
    if ((v = param("probe.pciid"))) sscanf(v, "%x:%x", &pci_vendor, &pci_device);
    ssize_t w = write(1, "\n", 1); /* the console may hold firmware escape codes */
    (void)w;
    out("start uptime=%.2f", uptime());
    report_system();
    struct utsname u;
    uname(&u);
    int is_x86 = strcmp(u.machine, "x86_64") == 0;
    load_modules();
    if (find_device()) {
        out("device id=%04x:%04x found=0", pci_vendor, pci_device);
        list_pci();
    } else {
        out("device id=%04x:%04x addr=%s found=1", pci_vendor, pci_device, pci_addr);
        char p[512], grp[256] = "", mb[16] = "";
        snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/msi_bus", pci_addr);
        if (read_file(p, mb, sizeof mb) > 0) { chomp(mb); out("msi_bus=%s", mb); }
        snprintf(p, sizeof p, "/sys/bus/pci/devices/%s/iommu_group", pci_addr);
        ssize_t n = readlink(p, grp, sizeof grp - 1);
        out("iommu_group_before_bind=%s", n > 0 ? (grp[n] = 0, strrchr(grp, '/') + 1) : "none");
        /* On DT arm64 the IOMMU is configured for a device only when a driver probes it
         * (of_dma_configure), so an unclaimed device has no group until vfio-pci binds. */
        int be = bind_vfio();
        n = readlink(p, grp, sizeof grp - 1);
        list_pci();
        if (n <= 0) {
            out("iommu_group=none");
        } else {
            grp[n] = 0;
            const char *g = strrchr(grp, '/') + 1;
            out("iommu_group=%s", g);
            report_group(g);
            report_all_groups();
            if (be == 0) vfio_sequence(g, is_x86);
        }
    }
    report_interrupts("end", NULL);
    report_klog();
    out("uptime=%.2f", uptime());
    out("done");
    sync();
    reboot(RB_POWER_OFF);
    for (;;) pause();
}
