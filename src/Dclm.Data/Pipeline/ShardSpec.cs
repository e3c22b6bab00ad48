namespace Dclm.Data.Pipeline;

/// <summary>"i/N": this process handles the input units with index % N == i.</summary>
public readonly record struct ShardSpec(int Index, int Count)
{
    /// <summary>The whole input in one process.</summary>
    public static ShardSpec All => new(0, 1);

    /// <summary>Parses "i/N" with 0 ≤ i &lt; N.</summary>
    public static ShardSpec Parse(string text)
    {
        var parts = text.Split('/');
        if (parts.Length != 2 || !int.TryParse(parts[0], out int index) || !int.TryParse(parts[1], out int count) || count < 1 || index < 0 || index >= count)
            throw new ArgumentException($"--shard '{text}': expected i/N with 0 <= i < N, e.g. 0/4");
        return new ShardSpec(index, count);
    }

    /// <summary>True when this shard owns unit <paramref name="unitIndex"/>.</summary>
    public bool Owns(int unitIndex) => unitIndex % Count == Index;

    /// <inheritdoc />
    public override string ToString() => $"{Index}/{Count}";
}
