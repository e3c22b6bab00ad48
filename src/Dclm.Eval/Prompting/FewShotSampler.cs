namespace Dclm.Eval.Prompting;

/// <summary>
/// Picks few-shot examples exactly as llm-foundry's <c>get_fewshot_sample_idxs</c> does, draw for draw:
/// one <c>random.Random(seed)</c> shared by all items in order, <c>set(rng.sample(range(n), k))</c>, the item
/// itself swapped for <c>rng.choice</c> draws, and the shots taken in the set's iteration order.
/// </summary>
public sealed class FewShotSampler(int datasetSize, int seed)
{
    private readonly PythonRandom _random = new(seed);

    /// <summary>Indices of the shots for item <paramref name="itemIndex"/>, in prompt order; fewer than k when the dataset is small.</summary>
    public int[] Sample(int shots, int itemIndex)
    {
        int count = Math.Min(datasetSize - 1, shots);
        var chosen = new PythonIntSet();
        foreach (int index in _random.Sample(datasetSize, Math.Max(0, count))) chosen.Add(index);
        if (chosen.Contains(itemIndex))
        {
            chosen.Remove(itemIndex);
            if (chosen.Count >= datasetSize - 1) return chosen.ToArray();
            int replacement = _random.Choice(datasetSize);
            while (chosen.Contains(replacement) || replacement == itemIndex) replacement = _random.Choice(datasetSize);
            chosen.Add(replacement);
        }
        return chosen.ToArray();
    }
}
