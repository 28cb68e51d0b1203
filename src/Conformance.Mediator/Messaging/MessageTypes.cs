namespace Conformance.Mediator;

/// <summary>The message type URIs (PIURI + name, didcomm-v2 "Message Type URIs") the mediator and its clients use.</summary>
public static class MessageTypes
{
    public const string CoordinateMediation = "https://didcomm.org/coordinate-mediation/2.0";
    public const string MediateRequest = CoordinateMediation + "/mediate-request";
    public const string MediateGrant = CoordinateMediation + "/mediate-grant";
    public const string MediateDeny = CoordinateMediation + "/mediate-deny";
    public const string KeylistUpdate = CoordinateMediation + "/keylist-update";
    public const string KeylistUpdateResponse = CoordinateMediation + "/keylist-update-response";
    public const string KeylistQuery = CoordinateMediation + "/keylist-query";
    public const string Keylist = CoordinateMediation + "/keylist";

    public const string Routing = "https://didcomm.org/routing/2.0";
    public const string Forward = Routing + "/forward";

    public const string Pickup = "https://didcomm.org/messagepickup/3.0";
    public const string StatusRequest = Pickup + "/status-request";
    public const string Status = Pickup + "/status";
    public const string DeliveryRequest = Pickup + "/delivery-request";
    public const string Delivery = Pickup + "/delivery";
    public const string MessagesReceived = Pickup + "/messages-received";
    public const string LiveDeliveryChange = Pickup + "/live-delivery-change";

    public const string TrustPing = "https://didcomm.org/trust-ping/2.0";
    public const string Ping = TrustPing + "/ping";
    public const string PingResponse = TrustPing + "/ping-response";

    public const string DiscoverFeatures = "https://didcomm.org/discover-features/2.0";
    public const string Queries = DiscoverFeatures + "/queries";
    public const string Disclose = DiscoverFeatures + "/disclose";

    public const string BasicMessage = "https://didcomm.org/basicmessage/2.0";
    public const string BasicMessageMessage = BasicMessage + "/message";

    public const string ReportProblem = "https://didcomm.org/report-problem/2.0";
    public const string ProblemReport = ReportProblem + "/problem-report";

    public const string OutOfBand = "https://didcomm.org/out-of-band/2.0";
    public const string Invitation = OutOfBand + "/invitation";

    /// <summary>
    /// Splits a message type URI into (protocol name, major, minor, message name), e.g.
    /// <c>https://didcomm.org/messagepickup/3.0/status</c> → ("https://didcomm.org/messagepickup", 3, 0, "status").
    /// didcomm-v2 "Message Type URIs": <c>&lt;doc-uri&gt;&lt;protocol-name&gt;/&lt;protocol-version&gt;/&lt;message-type-name&gt;</c>,
    /// the version being semver <c>major.minor</c>. False for anything else.
    /// </summary>
    public static bool TryParse(string? type, out string protocol, out int major, out int minor, out string name)
    {
        protocol = name = "";
        major = minor = 0;
        if (string.IsNullOrEmpty(type)) return false;
        var last = type.LastIndexOf('/');
        if (last <= 0 || last == type.Length - 1) return false;
        var versionStart = type.LastIndexOf('/', last - 1);
        if (versionStart <= 0) return false;
        var version = type.AsSpan(versionStart + 1, last - versionStart - 1);
        var dot = version.IndexOf('.');
        if (dot <= 0 || !int.TryParse(version[..dot], out major) || !int.TryParse(version[(dot + 1)..], out minor)) return false;
        protocol = type[..versionStart];
        name = type[(last + 1)..];
        return true;
    }
}
