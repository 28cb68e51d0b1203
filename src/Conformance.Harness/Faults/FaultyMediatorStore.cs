using System.Globalization;
using Conformance.Mediator;

namespace Conformance.Harness.Faults;

/// <summary>What the fault-injected mediator double gets wrong. Each fault is one broken promise of pickup 3.0 /
/// routing 2.0; the mediator suite has cases that FAIL on it (tests/Conformance.Harness.Tests/Faults/MediatorDoubleTests.cs).</summary>
[Flags]
public enum MediatorFaults
{
    None = 0,
    /// <summary>A forward is acknowledged (HTTP 202) but its message is never queued: mail is lost.</summary>
    Drop = 1,
    /// <summary>Every forwarded message is queued twice, under two ids: the recipient gets it twice.</summary>
    Duplicate = 2,
    /// <summary>Queued messages are handed out newest first instead of in the order they arrived.</summary>
    Reorder = 4,
    /// <summary>A message is deleted as soon as a delivery-request hands it out, before messages-received ("Delivered
    /// messages MUST NOT be deleted until delivery is acknowledged").</summary>
    ForgetDelivered = 8,
    /// <summary>messages-received deletes nothing: acknowledged messages are delivered again.</summary>
    KeepAcknowledged = 16,
    /// <summary>No replay detection: the same message sent twice has its effect twice.</summary>
    NoReplayCheck = 32,
}

/// <summary>
/// The fault-injected mediator: our mediator over a queue that breaks on purpose. It wraps a working store (both
/// <see cref="IMessageQueue"/> and <see cref="IMediationStore"/>) and changes only what <see cref="Faults"/> names, so
/// a suite run against it shows which cases catch which broken promise.
/// </summary>
public sealed class FaultyMediatorStore : IMessageQueue, IMediationStore
{
    private readonly MemoryMediatorStore _inner;
    private long _replaySalt;

    public FaultyMediatorStore(MemoryMediatorStore inner, MediatorFaults faults)
    {
        _inner = inner;
        Faults = faults;
    }

    public MediatorFaults Faults { get; }

    private bool Has(MediatorFaults f) => (Faults & f) != 0;

    public string Description => $"faulty ({Describe(Faults)}) over {_inner.Description}";

    /// <summary>"drop", "duplicate", "reorder", "forget-delivered", "keep-acknowledged", "no-replay-check".</summary>
    public static MediatorFaults Parse(string word) =>
        Enum.GetValues<MediatorFaults>().Where(f => f != MediatorFaults.None).FirstOrDefault(f => Kebab(f) == word.ToLowerInvariant()) is var f && f != MediatorFaults.None
            ? f
            : throw new ArgumentException($"unknown mediator fault '{word}'; faults: {string.Join(", ", Enum.GetValues<MediatorFaults>().Where(x => x != MediatorFaults.None).Select(Kebab))}");

    public static string Describe(MediatorFaults faults) =>
        string.Join("+", Enum.GetValues<MediatorFaults>().Where(f => f != MediatorFaults.None && faults.HasFlag(f)).Select(Kebab));

    private static string Kebab(MediatorFaults f) =>
        string.Concat(f.ToString().Select((ch, i) => char.IsUpper(ch) && i > 0 ? "-" + char.ToLowerInvariant(ch) : char.ToLowerInvariant(ch).ToString()));

    // A replay key made unique, so the inner store never sees a repeat.
    private ReplayKey Fresh(ReplayKey key) =>
        Has(MediatorFaults.NoReplayCheck) ? key with { MessageId = key.MessageId + "#" + Interlocked.Increment(ref _replaySalt).ToString(CultureInfo.InvariantCulture) } : key;

    public async ValueTask<IReadOnlyList<StoredMessage>?> EnqueueAsync(ReplayKey key, string owner, string recipient,
        IReadOnlyList<ReadOnlyMemory<byte>> envelopes, CancellationToken ct = default)
    {
        if (Has(MediatorFaults.Drop))
            return await _inner.TryMarkSeenAsync(Fresh(key), ct) ? [] : null;
        var list = Has(MediatorFaults.Duplicate) ? envelopes.Concat(envelopes).ToList() : envelopes;
        return await _inner.EnqueueAsync(Fresh(key), owner, recipient, list, ct);
    }

    public ValueTask<bool> TryMarkSeenAsync(ReplayKey key, CancellationToken ct = default) => _inner.TryMarkSeenAsync(Fresh(key), ct);

    public ValueTask<int?> AcknowledgeAsync(ReplayKey key, string owner, IReadOnlyList<string> ids, CancellationToken ct = default) =>
        Has(MediatorFaults.KeepAcknowledged) ? ValueTask.FromResult<int?>(0) : _inner.AcknowledgeAsync(Fresh(key), owner, ids, ct);

    public ValueTask<QueueStatus> StatusAsync(string owner, string? recipient = null, CancellationToken ct = default) => _inner.StatusAsync(owner, recipient, ct);

    public async ValueTask<IReadOnlyList<StoredMessage>> PeekAsync(string owner, string? recipient, int limit, CancellationToken ct = default)
    {
        IReadOnlyList<StoredMessage> list;
        if (Has(MediatorFaults.Reorder))
        {
            var all = await _inner.PeekAsync(owner, recipient, int.MaxValue, ct);
            list = all.Reverse().Take(limit).ToList();
        }
        else list = await _inner.PeekAsync(owner, recipient, limit, ct);
        if (Has(MediatorFaults.ForgetDelivered) && list.Count > 0)
            await _inner.AcknowledgeAsync(ReplayKey.Anonymous("forget-" + Interlocked.Increment(ref _replaySalt)), owner, list.Select(m => m.Id).ToList(), ct);
        return list;
    }

    public ValueTask<long> CountAllAsync(CancellationToken ct = default) => _inner.CountAllAsync(ct);

    public bool IsEnrolled(string clientDid) => _inner.IsEnrolled(clientDid);
    public ValueTask GrantAsync(string clientDid, CancellationToken ct = default) => _inner.GrantAsync(clientDid, ct);
    public ValueTask<KeyUpdateResult> AddKeyAsync(string clientDid, string recipientDid, CancellationToken ct = default) => _inner.AddKeyAsync(clientDid, recipientDid, ct);
    public ValueTask<KeyUpdateResult> RemoveKeyAsync(string clientDid, string recipientDid, CancellationToken ct = default) => _inner.RemoveKeyAsync(clientDid, recipientDid, ct);
    public ValueTask<(IReadOnlyList<string> Keys, int Total)> ListKeysAsync(string clientDid, int offset, int limit, CancellationToken ct = default) => _inner.ListKeysAsync(clientDid, offset, limit, ct);
    public string? OwnerOf(string recipientDid) => _inner.OwnerOf(recipientDid);
    public string? GetSetting(string name) => _inner.GetSetting(name);
    public void SetSetting(string name, string value) => _inner.SetSetting(name, value);

    public ValueTask DisposeAsync() => _inner.DisposeAsync();
}
