using System.Globalization;

namespace Conformance.Mediator;

/// <summary>
/// The in-memory backend: the same contract as <see cref="SqliteMediatorStore"/> (replay keys recorded atomically with
/// their effect, delete only on acknowledgement, ids never reused, two replay generations), without durability: a
/// restart loses everything. For tests and for benchmarking the protocol path without disk.
/// </summary>
public sealed class MemoryMediatorStore : IMessageQueue, IMediationStore
{
    private readonly Lock _gate = new();
    private readonly TimeSpan _replayWindow;
    private readonly SortedDictionary<long, StoredMessage> _messages = [];
    private readonly Dictionary<string, SortedSet<long>> _byOwner = new(StringComparer.Ordinal);
    private HashSet<ReplayKey> _seenCurrent = [];
    private HashSet<ReplayKey> _seenOld = [];
    private DateTime _seenSince = DateTime.UtcNow;
    private readonly HashSet<string> _enrolled = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _keyOwner = new(StringComparer.Ordinal);
    private readonly List<(string Client, string Recipient)> _keyOrder = [];
    private readonly Dictionary<string, string> _settings = new(StringComparer.Ordinal);
    private long _nextId = 1;

    public MemoryMediatorStore(TimeSpan? replayWindow = null) => _replayWindow = replayWindow ?? TimeSpan.FromHours(24);

    public string Description => "memory (not durable)";

    private bool MarkSeen(ReplayKey key)
    {
        if (DateTime.UtcNow - _seenSince >= _replayWindow)
        {
            (_seenOld, _seenCurrent) = (_seenCurrent, []);
            _seenSince = DateTime.UtcNow;
        }
        return !_seenOld.Contains(key) && _seenCurrent.Add(key);
    }

    public ValueTask<IReadOnlyList<StoredMessage>?> EnqueueAsync(ReplayKey key, string owner, string recipient,
        IReadOnlyList<ReadOnlyMemory<byte>> envelopes, CancellationToken ct = default)
    {
        if (envelopes.Count == 0) throw new ArgumentException("nothing to queue", nameof(envelopes));
        lock (_gate)
        {
            if (!MarkSeen(key)) return ValueTask.FromResult<IReadOnlyList<StoredMessage>?>(null);
            var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var stored = new List<StoredMessage>(envelopes.Count);
            if (!_byOwner.TryGetValue(owner, out var set)) _byOwner[owner] = set = [];
            foreach (var envelope in envelopes)
            {
                var id = _nextId++;
                var m = new StoredMessage(id.ToString(CultureInfo.InvariantCulture), owner, recipient, now, envelope.ToArray());
                _messages[id] = m;
                set.Add(id);
                stored.Add(m);
            }
            return ValueTask.FromResult<IReadOnlyList<StoredMessage>?>(stored);
        }
    }

    public ValueTask<bool> TryMarkSeenAsync(ReplayKey key, CancellationToken ct = default)
    {
        lock (_gate) return ValueTask.FromResult(MarkSeen(key));
    }

    public ValueTask<int?> AcknowledgeAsync(ReplayKey key, string owner, IReadOnlyList<string> ids, CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (!MarkSeen(key)) return ValueTask.FromResult<int?>(null);
            var deleted = 0;
            foreach (var s in ids)
            {
                if (!long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var id)) continue;
                if (_messages.TryGetValue(id, out var m) && m.Owner == owner)
                {
                    _messages.Remove(id);
                    _byOwner[owner].Remove(id);
                    deleted++;
                }
            }
            return ValueTask.FromResult<int?>(deleted);
        }
    }

    private IEnumerable<StoredMessage> Of(string owner, string? recipient) =>
        _byOwner.TryGetValue(owner, out var ids)
            ? ids.Select(i => _messages[i]).Where(m => recipient is null || m.Recipient == recipient)
            : [];

    public ValueTask<QueueStatus> StatusAsync(string owner, string? recipient = null, CancellationToken ct = default)
    {
        lock (_gate)
        {
            var list = Of(owner, recipient).ToList();
            return ValueTask.FromResult(list.Count == 0
                ? new QueueStatus(0, 0, null, null)
                : new QueueStatus(list.Count, list.Sum(m => (long)m.Envelope.Length), list[0].ReceivedAtMs, list[^1].ReceivedAtMs));
        }
    }

    public ValueTask<IReadOnlyList<StoredMessage>> PeekAsync(string owner, string? recipient, int limit, CancellationToken ct = default)
    {
        lock (_gate) return ValueTask.FromResult<IReadOnlyList<StoredMessage>>(Of(owner, recipient).Take(Math.Max(0, limit)).ToList());
    }

    public ValueTask<long> CountAllAsync(CancellationToken ct = default)
    {
        lock (_gate) return ValueTask.FromResult((long)_messages.Count);
    }

    public bool IsEnrolled(string clientDid)
    {
        lock (_gate) return _enrolled.Contains(clientDid);
    }

    public string? OwnerOf(string recipientDid)
    {
        lock (_gate) return _keyOwner.GetValueOrDefault(recipientDid);
    }

    public ValueTask GrantAsync(string clientDid, CancellationToken ct = default)
    {
        lock (_gate) _enrolled.Add(clientDid);
        return ValueTask.CompletedTask;
    }

    public ValueTask<KeyUpdateResult> AddKeyAsync(string clientDid, string recipientDid, CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (_keyOwner.TryGetValue(recipientDid, out var owner))
                return ValueTask.FromResult(owner == clientDid ? KeyUpdateResult.NoChange : KeyUpdateResult.ClientError);
            _keyOwner[recipientDid] = clientDid;
            _keyOrder.Add((clientDid, recipientDid));
            return ValueTask.FromResult(KeyUpdateResult.Success);
        }
    }

    public ValueTask<KeyUpdateResult> RemoveKeyAsync(string clientDid, string recipientDid, CancellationToken ct = default)
    {
        lock (_gate)
        {
            if (!_keyOwner.TryGetValue(recipientDid, out var owner) || owner != clientDid) return ValueTask.FromResult(KeyUpdateResult.NoChange);
            _keyOwner.Remove(recipientDid);
            _keyOrder.Remove((clientDid, recipientDid));
            return ValueTask.FromResult(KeyUpdateResult.Success);
        }
    }

    public ValueTask<(IReadOnlyList<string> Keys, int Total)> ListKeysAsync(string clientDid, int offset, int limit, CancellationToken ct = default)
    {
        lock (_gate)
        {
            var all = _keyOrder.Where(k => k.Client == clientDid).Select(k => k.Recipient).ToList();
            return ValueTask.FromResult<(IReadOnlyList<string>, int)>((all.Skip(Math.Max(0, offset)).Take(Math.Max(0, limit)).ToList(), all.Count));
        }
    }

    public string? GetSetting(string name)
    {
        lock (_gate) return _settings.GetValueOrDefault(name);
    }

    public void SetSetting(string name, string value)
    {
        lock (_gate) _settings[name] = value;
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
