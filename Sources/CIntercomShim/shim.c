#include "CIntercomShim.h"

void ic_webrtc_set_remote_description(GstElement *webrtc, GstWebRTCSessionDescription *desc, GstPromise *promise) {
    g_signal_emit_by_name(webrtc, "set-remote-description", desc, promise);
}
void ic_webrtc_set_local_description(GstElement *webrtc, GstWebRTCSessionDescription *desc, GstPromise *promise) {
    g_signal_emit_by_name(webrtc, "set-local-description", desc, promise);
}
void ic_webrtc_create_answer(GstElement *webrtc, GstPromise *promise) {
    g_signal_emit_by_name(webrtc, "create-answer", NULL, promise);
}
void ic_webrtc_create_offer(GstElement *webrtc, GstPromise *promise) {
    g_signal_emit_by_name(webrtc, "create-offer", NULL, promise);
}
void ic_webrtc_add_ice_candidate(GstElement *webrtc, guint mline, const gchar *candidate) {
    g_signal_emit_by_name(webrtc, "add-ice-candidate", mline, candidate);
}
gboolean ic_webrtc_add_turn_server(GstElement *webrtc, const gchar *uri) {
    gboolean added = FALSE;
    g_signal_emit_by_name(webrtc, "add-turn-server", uri, &added);
    return added;
}
GObject *ic_webrtc_create_data_channel(GstElement *webrtc, const gchar *label, GstStructure *options) {
    GObject *channel = NULL;
    g_signal_emit_by_name(webrtc, "create-data-channel", label, options, &channel);
    return channel;
}
GObject *ic_webrtc_add_transceiver(GstElement *webrtc, GstWebRTCRTPTransceiverDirection direction, GstCaps *caps) {
    GObject *transceiver = NULL;
    g_signal_emit_by_name(webrtc, "add-transceiver", direction, caps, &transceiver);
    return transceiver;
}
GObject *ic_webrtc_get_transceiver(GstElement *webrtc, gint index) {
    GObject *transceiver = NULL;
    g_signal_emit_by_name(webrtc, "get-transceiver", index, &transceiver);
    return transceiver;
}
void ic_data_channel_close(GObject *channel) { g_signal_emit_by_name(channel, "close"); }
void ic_data_channel_send_string(GObject *channel, const gchar *text) {
    g_signal_emit_by_name(channel, "send-string", text);
}
void ic_data_channel_send_data(GObject *channel, GBytes *data) { g_signal_emit_by_name(channel, "send-data", data); }
gint ic_object_get_enum(gpointer object, const gchar *property) {
    gint value = 0;
    g_object_get(object, property, &value, NULL);
    return value;
}
gint ic_object_get_int(gpointer object, const gchar *property) {
    gint value = 0;
    g_object_get(object, property, &value, NULL);
    return value;
}
gchar *ic_object_get_string(gpointer object, const gchar *property) {
    gchar *value = NULL;
    g_object_get(object, property, &value, NULL);
    return value;
}
gpointer ic_object_get_object(gpointer object, const gchar *property) {
    gpointer value = NULL;
    g_object_get(object, property, &value, NULL);
    return value;
}
void ic_object_set_int(gpointer object, const gchar *property, gint value) { g_object_set(object, property, value, NULL); }
void ic_object_set_uint(gpointer object, const gchar *property, guint value) { g_object_set(object, property, value, NULL); }
void ic_object_set_string(gpointer object, const gchar *property, const gchar *value) {
    g_object_set(object, property, value, NULL);
}
void ic_object_set_pointer_object(gpointer object, const gchar *property, gpointer value) {
    g_object_set(object, property, value, NULL);
}

void ic_webrtc_get_stats(GstElement *webrtc, GstPromise *promise) {
    g_signal_emit_by_name(webrtc, "get-stats", NULL, promise);
}
