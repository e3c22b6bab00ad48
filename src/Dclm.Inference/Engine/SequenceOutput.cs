using System.Threading.Tasks.Sources;

namespace Dclm.Inference.Engine;

/// <summary>
/// The updates of one sequence on their way from the engine thread (one writer) to its <see cref="GenerationStream"/>
/// (one reader). The writer copies each token, its text and its log-probabilities into buffers sized at admission and
/// reused as the reader drains them, so streaming allocates nothing on the engine thread; the reader makes the
/// <see cref="GenerationUpdate"/> objects and strings on its own thread. A reader that falls behind makes the buffers
/// grow (doubling), never drop anything.
/// </summary>
internal sealed class SequenceOutput : IValueTaskSource<bool>
{
    private struct Entry
    {
        public int TokenId, TextLength;
        public FinishReason FinishReason;
        public GenerationUsage? Usage;
        public TokenLogprobs? Logprobs;
        public IReadOnlyList<TokenLogprobs?>? PromptLogprobs;
    }

    private readonly object _gate = new();
    // Written, unread entries: _count of them from _head, wrapping around.
    private Entry[] _entries;
    private int _head, _count;
    // Their text, back to back: unread characters are [_textStart, _textEnd).
    private char[] _text;
    private int _textStart, _textEnd;
    // Set once the last entry is written (or the sequence failed); the reader ends after draining.
    private bool _completed;
    private Exception? _error;
    // One wait at a time, by the single reader.
    private ManualResetValueTaskSourceCore<bool> _signal = new() { RunContinuationsAsynchronously = true };
    private bool _readerWaiting;
    private CancellationTokenRegistration _waitCancellation;

    /// <param name="expectedTokens">Updates to make room for up front (the token budget, up to a bound).</param>
    public SequenceOutput(int expectedTokens)
    {
        int entries = Math.Clamp(expectedTokens + 1, 2, 257);
        _entries = new Entry[entries];
        // Sixteen characters a token: a reader that keeps up never makes it grow.
        _text = new char[entries * 16];
    }

    /// <summary>Queues one update; with <paramref name="usage"/> it is the last one. Engine thread only.</summary>
    public void Write(int tokenId, ReadOnlySpan<char> text, TokenLogprobs? logprobs, IReadOnlyList<TokenLogprobs?>? promptLogprobs,
        FinishReason finishReason = FinishReason.None, GenerationUsage? usage = null)
    {
        lock (_gate)
        {
            if (_completed) return;
            if (_count == _entries.Length) GrowEntries();
            ReserveText(text.Length);
            text.CopyTo(_text.AsSpan(_textEnd));
            _textEnd += text.Length;
            _entries[(_head + _count++) % _entries.Length] = new Entry
            {
                TokenId = tokenId, TextLength = text.Length, FinishReason = finishReason, Usage = usage, Logprobs = logprobs, PromptLogprobs = promptLogprobs,
            };
            _completed = usage is not null;
            WakeReader();
        }
    }

    /// <summary>Ends the stream with <paramref name="error"/> after the updates already written. Any thread.</summary>
    public void Fail(Exception error)
    {
        lock (_gate)
        {
            if (_completed) return;
            (_completed, _error) = (true, error);
            WakeReader();
        }
    }

    /// <summary>Takes the next update, if one is written. Reader only.</summary>
    public bool TryRead(out GenerationUpdate update)
    {
        lock (_gate)
        {
            if (_count == 0)
            {
                update = null!;
                return false;
            }
            ref var entry = ref _entries[_head];
            string text = entry.TextLength == 0 ? "" : new string(_text, _textStart, entry.TextLength);
            update = new GenerationUpdate(entry.TokenId, text, entry.FinishReason, entry.Usage, entry.Logprobs, entry.PromptLogprobs);
            entry = default;
            _head = (_head + 1) % _entries.Length;
            _count--;
            _textStart += text.Length;
            if (_textStart == _textEnd) _textStart = _textEnd = 0;
            return true;
        }
    }

    /// <summary>
    /// True once an update can be read, false once the stream has ended and every update was read; throws the
    /// sequence's error (after the updates written before it) or, when <paramref name="cancellation"/> fires, an
    /// <see cref="OperationCanceledException"/>. Reader only.
    /// </summary>
    public ValueTask<bool> WaitToReadAsync(CancellationToken cancellation)
    {
        lock (_gate)
        {
            if (_count > 0) return new ValueTask<bool>(true);
            if (_completed) return _error is null ? new ValueTask<bool>(false) : ValueTask.FromException<bool>(_error);
            if (cancellation.IsCancellationRequested) return ValueTask.FromCanceled<bool>(cancellation);
            _signal.Reset();
            _readerWaiting = true;
        }
        if (cancellation.CanBeCanceled)
            _waitCancellation = cancellation.UnsafeRegister(static (state, token) => ((SequenceOutput)state!).CancelWait(token), this);
        return new ValueTask<bool>(this, _signal.Version);
    }

    private void CancelWait(CancellationToken token)
    {
        lock (_gate)
        {
            if (!_readerWaiting) return;
            _readerWaiting = false;
            _signal.SetException(new OperationCanceledException(token));
        }
    }

    // With the lock held: completes the reader's wait, whose continuation then runs on the thread pool.
    private void WakeReader()
    {
        if (!_readerWaiting) return;
        _readerWaiting = false;
        _signal.SetResult(true);
    }

    private void GrowEntries()
    {
        var grown = new Entry[_entries.Length * 2];
        for (int i = 0; i < _count; i++) grown[i] = _entries[(_head + i) % _entries.Length];
        (_entries, _head) = (grown, 0);
    }

    private void ReserveText(int length)
    {
        if (_textEnd + length <= _text.Length) return;
        int unread = _textEnd - _textStart;
        var target = unread + length <= _text.Length ? _text : new char[Math.Max(_text.Length * 2, unread + length)];
        Array.Copy(_text, _textStart, target, 0, unread);
        (_text, _textStart, _textEnd) = (target, 0, unread);
    }

    bool IValueTaskSource<bool>.GetResult(short token)
    {
        try { return _signal.GetResult(token); }
        finally { _waitCancellation.Dispose(); }
    }

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _signal.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _signal.OnCompleted(continuation, state, token, flags);
}
