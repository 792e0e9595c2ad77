#ifndef C_INTERCOM_SHIM_H
#define C_INTERCOM_SHIM_H
// Wrappers for the variadic GObject calls Swift cannot make (g_signal_emit_by_name, g_object_get).
// Nothing here holds logic; every function is one call.
#include <gst/gst.h>
#define GST_USE_UNSTABLE_API
#include <gst/webrtc/webrtc.h>

void ic_webrtc_set_remote_description(GstElement *webrtc, GstWebRTCSessionDescription *desc, GstPromise *promise);
void ic_webrtc_set_local_description(GstElement *webrtc, GstWebRTCSessionDescription *desc, GstPromise *promise);
void ic_webrtc_create_answer(GstElement *webrtc, GstPromise *promise);
void ic_webrtc_create_offer(GstElement *webrtc, GstPromise *promise);
void ic_webrtc_add_ice_candidate(GstElement *webrtc, guint mline, const gchar *candidate);
void ic_webrtc_get_stats(GstElement *webrtc, GstPromise *promise);
gboolean ic_webrtc_add_turn_server(GstElement *webrtc, const gchar *uri);
/// Returns a new reference to the channel, or NULL.
GObject *ic_webrtc_create_data_channel(GstElement *webrtc, const gchar *label, GstStructure *options);
/// Returns a new reference to the added transceiver, or NULL.
GObject *ic_webrtc_add_transceiver(GstElement *webrtc, GstWebRTCRTPTransceiverDirection direction, GstCaps *caps);
/// Returns a new reference to the transceiver at `index`, or NULL.
GObject *ic_webrtc_get_transceiver(GstElement *webrtc, gint index);
void ic_data_channel_close(GObject *channel);
void ic_data_channel_send_string(GObject *channel, const gchar *text);
void ic_data_channel_send_data(GObject *channel, GBytes *data);
gint ic_object_get_enum(gpointer object, const gchar *property);
gint ic_object_get_int(gpointer object, const gchar *property);
gchar *ic_object_get_string(gpointer object, const gchar *property);
gpointer ic_object_get_object(gpointer object, const gchar *property);
void ic_object_set_int(gpointer object, const gchar *property, gint value);
void ic_object_set_uint(gpointer object, const gchar *property, guint value);
void ic_object_set_string(gpointer object, const gchar *property, const gchar *value);
void ic_object_set_pointer_object(gpointer object, const gchar *property, gpointer value);

#endif
