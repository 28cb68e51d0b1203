using System.Text.Json;
using System.Text.Json.Nodes;

namespace Conformance.Mediator;

/// <summary>
/// Trust Ping 2.0 (didcomm-v2/trustping.md), receiver role: "response_requested: default value is true. If false, the
/// sender is not requesting a ping-response"; the ping-response carries <c>thid</c> = the ping's id. Anonymous pings are
/// answered signed. Identus ping.feature: with return_route "all" the response comes back synchronously; with "none" it
/// is sent to the sender's endpoint.
/// </summary>
internal static class TrustPingProtocol
{
    public static V2Message? Handle(MediatorEngine engine, Inbound inbound)
    {
        var requested = inbound.Message.Body["response_requested"] is not JsonValue v || v.GetValueKind() != JsonValueKind.False;
        return requested ? engine.Reply(inbound, MessageTypes.PingResponse, []) : null;
    }
}

/// <summary>
/// Discover Features 2.0 (didcomm-v2/feature_discovery.md), responder role. "Implementations of this protocol must
/// recognize the following values for feature-type: protocol, goal-code, and header. Additional values of feature-type
/// may be used, and unrecognized values MUST be ignored." "The match field of a query descriptor may use the * wildcard."
/// Disclosed: the protocols with the roles the mediator plays, the <c>return_route</c> header, and the transports.md
/// <c>max_receive_bytes</c> constraint.
/// </summary>
internal static class DiscoverFeaturesProtocol
{
    private static readonly (string Piuri, string[] Roles)[] Protocols =
    [
        (MessageTypes.CoordinateMediation, ["mediator"]),
        (MessageTypes.Routing, ["mediator"]),
        (MessageTypes.Pickup, ["mediator"]),
        (MessageTypes.TrustPing, ["receiver"]),
        (MessageTypes.DiscoverFeatures, ["responder"]),
        (MessageTypes.BasicMessage, ["receiver"]),
        (MessageTypes.ReportProblem, []),
    ];

    private static readonly string[] Headers = ["return_route"];

    public static V2Message Handle(MediatorEngine engine, Inbound inbound)
    {
        if (inbound.Message.Body["queries"] is not JsonArray queries)
            throw new DidCommException(ProblemCodes.Malformed, "queries: body.queries must be an array");
        var disclosures = new JsonArray();
        var seen = new HashSet<(string, string)>();
        foreach (var q in queries)
        {
            if (q is not JsonObject o || CoordinateMediationProtocol.Str(o, "feature-type") is not { } type || CoordinateMediationProtocol.Str(o, "match") is not { } match)
                throw new DidCommException(ProblemCodes.Malformed, "queries: each query needs a feature-type and a match");
            switch (type)
            {
                case "protocol":
                    foreach (var (piuri, roles) in Protocols)
                        if (Matches(match, piuri) && seen.Add((type, piuri)))
                        {
                            var d = new JsonObject { ["feature-type"] = "protocol", ["id"] = piuri };
                            if (roles.Length > 0) d["roles"] = new JsonArray(roles.Select(r => (JsonNode)r).ToArray());
                            disclosures.Add(d);
                        }
                    break;
                case "header":
                    foreach (var h in Headers)
                        if (Matches(match, h) && seen.Add((type, h))) disclosures.Add(new JsonObject { ["feature-type"] = "header", ["id"] = h });
                    break;
                case "constraint":
                    if (Matches(match, "max_receive_bytes") && seen.Add((type, "max_receive_bytes")))
                        disclosures.Add(new JsonObject
                        {
                            ["feature-type"] = "constraint",
                            ["id"] = "max_receive_bytes",
                            ["max_receive_bytes"] = engine.Options.MaxMessageBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
                        });
                    break;
                // goal-code: none to disclose; unknown feature types are ignored.
            }
        }
        return engine.Reply(inbound, MessageTypes.Disclose, new JsonObject { ["disclosures"] = disclosures });
    }

    /// <summary>feature_discovery.md: "The match field of a query descriptor may use the * wildcard": '*' matches any run of
    /// characters (so "https://didcomm.org/tictactoe/1.*" matches every 1.x version); everything else matches literally.</summary>
    internal static bool Matches(string pattern, string value)
    {
        int p = 0, v = 0, star = -1, mark = 0;
        while (v < value.Length)
        {
            if (p < pattern.Length && (pattern[p] == value[v])) { p++; v++; }
            else if (p < pattern.Length && pattern[p] == '*') { star = p++; mark = v; }
            else if (star >= 0) { p = star + 1; v = ++mark; }
            else return false;
        }
        while (p < pattern.Length && pattern[p] == '*') p++;
        return p == pattern.Length;
    }
}

/// <summary>
/// BasicMessage 2.0 (shared/specs/didcomm-v2-protocols/basicmessage-2.0.md), receiver role: "There are no assumptions
/// about this protocol ... there is no protocol level expectation of a response". A message without its <c>content</c>
/// attribute is malformed (the Identus test suite's "Sending malformed message" sends <c>{"incorrect": "message"}</c> and
/// expects <see cref="ProblemCodes.Malformed"/>). Accepted messages are counted and logged, nothing else.
/// </summary>
internal static class BasicMessageProtocol
{
    public static V2Message? Handle(MediatorEngine engine, Inbound inbound)
    {
        if (inbound.Message.Body["content"] is not JsonValue v || v.GetValueKind() != JsonValueKind.String)
            throw new DidCommException(ProblemCodes.Malformed, "basicmessage: body.content is required (a string)");
        engine.Log($"basicmessage {inbound.Message.Id} from {inbound.Sender ?? "an anonymous sender"}");
        return null;
    }
}

/// <summary>
/// Report Problem 2.0: problem reports the mediator receives are logged and never answered ("never honor a pure ACK
/// request ..." — and a problem report about a problem report would loop). The mediator's own reports are built by
/// <see cref="MediatorEngine.ProblemReport"/> with the codes in <see cref="ProblemCodes"/>.
/// </summary>
internal static class ReportProblemProtocol
{
    public static V2Message? Receive(MediatorEngine engine, Inbound inbound)
    {
        var code = CoordinateMediationProtocol.Str(inbound.Message.Body, "code") ?? "(no code)";
        engine.Log($"problem report received from {inbound.Sender ?? "an anonymous sender"}: {code}");
        return null;
    }
}
