namespace Dclm.Eval.Prompting;

/// <summary>
/// Picks few-shot examples as llm-foundry does: one seeded generator shared by all items in order,
/// k distinct indices from the whole dataset, the item itself swapped for another index.
/// The generator is .NET's seeded <see cref="Random"/>, so the draw is stable across runs but not
/// the same draw as Python's <c>random.Random(1234)</c>.
/// </summary>
public sealed class FewShotSampler(int datasetSize, int seed)
{
    private readonly Random _random = new(seed);

    /// <summary>Indices of the shots for item <paramref name="itemIndex"/>, ascending; fewer than k when the dataset is small.</summary>
    public int[] Sample(int shots, int itemIndex)
    {
        int count = Math.Min(datasetSize - 1, shots);
        if (count <= 0) return [];
        var chosen = new HashSet<int>();
        while (chosen.Count < count) chosen.Add(_random.Next(datasetSize));
        if (chosen.Remove(itemIndex))
        {
            int replacement;
            do replacement = _random.Next(datasetSize);
            while (replacement == itemIndex || chosen.Contains(replacement));
            chosen.Add(replacement);
        }
        var result = chosen.ToArray();
        Array.Sort(result);
        return result;
    }
}
