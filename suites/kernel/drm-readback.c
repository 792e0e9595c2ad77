/*
 * drm-readback: reads back the picture a KMS CRTC is scanning out, for the kernel tests (suites/kernel).
 *
 *   drm-readback CARD [OUT.ppm]
 *
 * Prints one JSON line about the first active CRTC: its id, the framebuffer id on it, the framebuffer's size
 * and pixel format. With OUT.ppm, also writes that framebuffer's pixels as a binary PPM.
 *
 * The door is the DRM master while it runs, so this cannot add a writeback connector to its commits; instead
 * it asks for the scanned-out framebuffer (drmModeGetFB2: root gets its GEM handle even when not master),
 * maps that dumb buffer (DRM_IOCTL_MODE_MAP_DUMB + mmap) and copies its pixels out.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <drm_fourcc.h>
#include <xf86drm.h>
#include <xf86drmMode.h>

static int fail(const char *what) {
    fprintf(stderr, "drm-readback: %s: %s\n", what, strerror(errno));
    return 1;
}

static int write_ppm(const char *path, const uint8_t *pixels, const drmModeFB2 *fb) {
    FILE *out = fopen(path, "wb");
    if (!out) return fail(path);
    fprintf(out, "P6\n%u %u\n255\n", fb->width, fb->height);
    uint8_t *row = malloc((size_t)fb->width * 3);
    if (!row) return fail("malloc");
    for (uint32_t y = 0; y < fb->height; y++) {
        const uint8_t *src = pixels + fb->offsets[0] + (size_t)y * fb->pitches[0];
        for (uint32_t x = 0; x < fb->width; x++) {
            /* XRGB8888 / ARGB8888 are little-endian 32-bit words: bytes B, G, R, X. */
            row[x * 3 + 0] = src[x * 4 + 2];
            row[x * 3 + 1] = src[x * 4 + 1];
            row[x * 3 + 2] = src[x * 4 + 0];
        }
        if (fwrite(row, 3, fb->width, out) != fb->width) return fail(path);
    }
    free(row);
    if (fclose(out) != 0) return fail(path);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: drm-readback CARD [OUT.ppm]\n");
        return 2;
    }
    int fd = open(argv[1], O_RDWR | O_CLOEXEC);
    if (fd < 0) return fail(argv[1]);
    drmModeRes *resources = drmModeGetResources(fd);
    if (!resources) return fail("drmModeGetResources");
    drmModeCrtc *crtc = NULL;
    for (int i = 0; i < resources->count_crtcs && !crtc; i++) {
        drmModeCrtc *candidate = drmModeGetCrtc(fd, resources->crtcs[i]);
        if (candidate && candidate->buffer_id) crtc = candidate;
        else drmModeFreeCrtc(candidate);
    }
    if (!crtc) {
        printf("{\"crtc\":0,\"fb\":0}\n");
        return 0;
    }
    drmModeFB2 *fb = drmModeGetFB2(fd, crtc->buffer_id);
    if (!fb) return fail("drmModeGetFB2");
    char format[5] = {0};
    memcpy(format, &fb->pixel_format, 4);
    printf("{\"crtc\":%u,\"fb\":%u,\"width\":%u,\"height\":%u,\"format\":\"%s\",\"mode\":\"%s\"}\n", crtc->crtc_id,
           crtc->buffer_id, fb->width, fb->height, format, crtc->mode.name);
    if (argc == 2) return 0;
    if (fb->pixel_format != DRM_FORMAT_XRGB8888 && fb->pixel_format != DRM_FORMAT_ARGB8888) {
        fprintf(stderr, "drm-readback: pixel format %s is not XR24/AR24\n", format);
        return 1;
    }
    if (!fb->handles[0]) {
        fprintf(stderr, "drm-readback: no handle for framebuffer %u (run as root)\n", crtc->buffer_id);
        return 1;
    }
    struct drm_mode_map_dumb map = {.handle = fb->handles[0]};
    if (drmIoctl(fd, DRM_IOCTL_MODE_MAP_DUMB, &map) != 0) return fail("DRM_IOCTL_MODE_MAP_DUMB");
    size_t size = (size_t)fb->offsets[0] + (size_t)fb->pitches[0] * fb->height;
    uint8_t *pixels = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, (off_t)map.offset);
    if (pixels == MAP_FAILED) return fail("mmap");
    int status = write_ppm(argv[2], pixels, fb);
    munmap(pixels, size);
    drmModeFreeFB2(fb);
    drmModeFreeCrtc(crtc);
    drmModeFreeResources(resources);
    close(fd);
    return status;
}
