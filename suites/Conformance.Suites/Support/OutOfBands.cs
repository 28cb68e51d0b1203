using System.Text.Json.Nodes;
using Conformance.Harness.Grading;

namespace Conformance.Suites.Support;

public static class OutOfBands
{
    public const string Section = "aries-rfcs/0434-outofband/README.md";

    /// <summary>Has the AUT receive an invitation through its backchannel and, if it waits, send the request.</summary>
    public static async Task<string> AutReceivesAsync(CaseContext c, JsonObject invitation, bool reuse = false)
    {
        var received = await c.Backchannel.OobReceiveInvitationAsync(Flows.Clone(invitation), reuse);
        var id = Flows.OptStr(received, "connection_id");
        if (id == null) return "";
        var state = Flows.OptStr(received, "state");
        if (state is "invitation-received" or "invitation")
        {
            var hs = invitation["handshake_protocols"] as JsonArray;
            try
            {
                var dx = await c.Backchannel.DidExchangeAsync(id);
                if (Flows.OptStr(dx, "state") == "invitation-received") await c.Backchannel.DidExchangeSendRequestAsync(id);
            }
            catch (Harness.Drivers.BackchannelException) when (hs?.Any(h => h?.ToString().Contains("connections/1.0") == true) == true)
            {
                await c.Backchannel.ConnectionAcceptInvitationAsync(id);
            }
        }
        return id;
    }

    public static IEnumerable<JsonObject> InlineServices(JsonObject inv) => (inv["services"] as JsonArray ?? []).OfType<JsonObject>();
}
