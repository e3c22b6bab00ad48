namespace Dclm.Distributed;

/// <summary>A group of one: every collective is a copy.</summary>
public sealed class SingleProcess : ICommunicator
{
    /// <summary>The group of this process alone.</summary>
    public static readonly SingleProcess Instance = new();

    public int Rank => 0;
    public int Size => 1;

    public void AllToAll(ReadOnlySpan<float> source, Span<float> destination) => source.CopyTo(destination);
    public void AllGather(ReadOnlySpan<float> source, Span<float> destination) => source.CopyTo(destination);
    public void AllGather(ReadOnlySpan<double> source, Span<double> destination) => source.CopyTo(destination);
    public void Broadcast(Span<byte> buffer, int root) { }
    public void Barrier() { }
    public void Abort(int exitCode) => Environment.Exit(exitCode);
    public void Dispose() { }
}
