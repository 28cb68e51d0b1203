using System.Text.Json.Nodes;
using Conformance.Wire.Crypto;
using Conformance.Wire.Messages;

namespace Conformance.Agent.Misbehaviour;

/// <summary>
/// How the harness makes the reference agent send a faulty message on purpose. A rule names the outgoing message it
/// applies to (by message name such as "request", or a full @type, or "*") and what to do to it: mutate its JSON
/// after the protocol built it, sign its signed parts with another key, pack it with another sender key, or send it
/// more than once. Rules apply once by default and are recorded in <see cref="Applied"/> so a report can say what
/// fault was injected.
/// </summary>
public sealed class MisbehaviourPlan
{
    private readonly List<MisbehaviourRule> _rules = [];
    private readonly Lock _gate = new();

    public List<string> Applied { get; } = [];

    public void Add(MisbehaviourRule rule)
    {
        lock (_gate) _rules.Add(rule);
    }

    public void Clear()
    {
        lock (_gate) { _rules.Clear(); Applied.Clear(); }
    }

    public bool IsEmpty { get { lock (_gate) return _rules.Count == 0; } }

    /// <summary>
    /// A broken agent for the FAULTS suite: every delivery of a connection request is processed as a new request
    /// (no recognition of the same request by its thread), so a duplicated or replayed request on a multi-use
    /// invitation makes a second connection.
    /// </summary>
    public bool TreatRepeatedRequestsAsNew { get; set; }

    /// <summary>
    /// A broken agent for the FAULTS suite: a delivery that fails (refused, HTTP error, timeout) is reported as sent;
    /// the message is silently lost and never retried.
    /// </summary>
    public bool SwallowDeliveryFailures { get; set; }

    /// <summary>
    /// A broken agent for the FAULTS suite: an outbound WebSocket is reused for an endpoint without checking that it is
    /// still open, so after the socket is cut every later message to that endpoint fails.
    /// </summary>
    public bool ReuseDeadSockets { get; set; }

    /// <summary>The key a protocol should sign <paramref name="messageName"/>'s signed parts with (connection~sig, did_doc~attach).</summary>
    public Ed25519KeyPair SigningKey(string messageName, Ed25519KeyPair proper)
    {
        lock (_gate)
        {
            var rule = _rules.FirstOrDefault(r => r.SignWith != null && r.Matches(messageName));
            if (rule == null) return proper;
            Consume(rule);
            return rule.SignWith!;
        }
    }

    /// <summary>Applies the matching rules to an outgoing message just before it is packed.</summary>
    public MisbehaviourResult Apply(AgentMessage message, ReferenceAgent agent)
    {
        lock (_gate)
        {
            if (_rules.Count == 0) return new MisbehaviourResult(message, null, 1);
            var json = message.Json;
            Ed25519KeyPair? sender = null;
            int copies = 1;
            foreach (var rule in _rules.Where(r => r.Matches(message.Type.Name) || r.Matches(message.Type.ToString())).ToList())
            {
                if (rule.SignWith != null && rule.Mutate == null && rule.PackAs == null && rule.Copies == 1) continue; // signing rules are applied by the protocol
                if (rule.Mutate != null) json = rule.Mutate(json);
                if (rule.PackAs != null) sender = rule.PackAs;
                copies = Math.Max(copies, rule.Copies);
                Consume(rule);
            }
            return new MisbehaviourResult(AgentMessage.FromJson(json), sender, copies);
        }
    }

    private void Consume(MisbehaviourRule rule)
    {
        Applied.Add(rule.Description);
        if (rule.Once) _rules.Remove(rule);
    }
}

/// <param name="MessageName">"request", "response", a full @type, or "*".</param>
/// <param name="Description">What fault this is, for the report ("connection~sig signed by a key that is not the invitation key").</param>
public sealed record MisbehaviourRule(string MessageName, string Description)
{
    public Func<JsonObject, JsonObject>? Mutate { get; init; }
    public Ed25519KeyPair? SignWith { get; init; }
    public Ed25519KeyPair? PackAs { get; init; }
    public int Copies { get; init; } = 1;
    public bool Once { get; init; } = true;

    public bool Matches(string nameOrType) => MessageName == "*" || MessageName == nameOrType;
}

public sealed record MisbehaviourResult(AgentMessage Message, Ed25519KeyPair? SenderOverride, int Copies);
