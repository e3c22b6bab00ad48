using Dclm.Distributed;

namespace Dclm.TestSupport;

/// <summary>
/// N ranks as N threads of one process, for tests of collective code without mpirun: each rank's
/// <see cref="ICommunicator"/> exchanges through shared slots and a barrier, with MPI's semantics (every rank makes the
/// same calls in the same order).
/// </summary>
public sealed class ThreadGroup
{
    private readonly Barrier _barrier;
    private readonly Array?[] _slots;

    private ThreadGroup(int size)
    {
        _barrier = new Barrier(size);
        _slots = new Array?[size];
    }

    /// <summary>Runs <paramref name="body"/>(rank) on <paramref name="size"/> threads at once and returns their results by rank.</summary>
    public static T[] Run<T>(int size, Func<ICommunicator, T> body)
    {
        var group = new ThreadGroup(size);
        var results = new T[size];
        var errors = new Exception?[size];
        var threads = Enumerable.Range(0, size).Select(r => new Thread(() =>
        {
            try { results[r] = body(new Member(group, r)); }
            catch (Exception e)
            {
                errors[r] = e;
                group._barrier.RemoveParticipant(); // the others then fail their next exchange instead of waiting forever
            }
        }, 16 << 20)).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        if (errors.FirstOrDefault(e => e is not null) is { } error) throw new AggregateException(error);
        return results;
    }

    private sealed class Member(ThreadGroup group, int rank) : ICommunicator
    {
        public int Rank => rank;
        public int Size => group._slots.Length;

        private T[] Exchange<T>(ReadOnlySpan<T> source, int from)
        {
            group._slots[rank] = source.ToArray();
            if (!group._barrier.SignalAndWait(TimeSpan.FromMinutes(5))) throw new TimeoutException("a rank did not reach the exchange");
            var values = (T[])group._slots[from]!;
            return values;
        }

        private void Done()
        {
            if (!group._barrier.SignalAndWait(TimeSpan.FromMinutes(5))) throw new TimeoutException("a rank did not finish the exchange");
        }

        public void AllToAll(ReadOnlySpan<float> source, Span<float> destination)
        {
            int block = source.Length / Size;
            Exchange(source, rank);
            for (int r = 0; r < Size; r++) ((float[])group._slots[r]!).AsSpan(rank * block, block).CopyTo(destination.Slice(r * block, block));
            Done();
        }

        public void AllGather(ReadOnlySpan<float> source, Span<float> destination) => Gather(source, destination);
        public void AllGather(ReadOnlySpan<double> source, Span<double> destination) => Gather(source, destination);

        private void Gather<T>(ReadOnlySpan<T> source, Span<T> destination)
        {
            Exchange(source, rank);
            for (int r = 0; r < Size; r++) ((T[])group._slots[r]!).CopyTo(destination.Slice(r * source.Length, source.Length));
            Done();
        }

        public void Broadcast(Span<byte> buffer, int root)
        {
            var values = Exchange<byte>(buffer, root);
            values.CopyTo(buffer);
            Done();
        }

        public void Barrier() => Done();
        public void Abort(int exitCode) => throw new InvalidOperationException($"rank {rank} aborted with {exitCode}");
        public void Dispose() { }
    }
}
