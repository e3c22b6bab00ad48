using System.Text;

namespace Dclm.Data.Quality;

/// <summary>
/// A fastText-style linear text classifier for two classes (negative 0, positive 1): the document vector
/// h = mean of the embedding rows of its hashed unigram and bigram features (dim D), logits = W·h + b (2×D),
/// probabilities = softmax(logits). Trained by SGD on cross-entropy with a linearly decaying learning rate.
/// </summary>
public sealed class QualityClassifier
{
    private const string Magic = "DCLMQC01";
    private readonly float[] _embeddings;   // (buckets, dim)
    private readonly float[] _output;       // (2, dim)
    private readonly float[] _bias = new float[2];

    /// <summary>
    /// Creates an untrained model. Embeddings start at zero and the output layer small and random (the reverse of
    /// fastText's choice, which learns equally well) so rows of features never seen stay zero and are not saved.
    /// </summary>
    public QualityClassifier(int buckets, int dimension, int seed)
    {
        if (buckets < 16 || dimension < 1 || dimension > 1024) throw new ArgumentOutOfRangeException(nameof(buckets), "need buckets >= 16 and 1 <= dimension <= 1024");
        Buckets = buckets;
        Dimension = dimension;
        _embeddings = new float[(long)buckets * dimension];
        _output = new float[2 * dimension];
        var random = new Random(seed);
        for (int i = 0; i < _output.Length; i++) _output[i] = (float)((random.NextDouble() * 2 - 1) / dimension);
    }

    /// <summary>Hash buckets (embedding rows).</summary>
    public int Buckets { get; }

    /// <summary>Embedding width.</summary>
    public int Dimension { get; }

    /// <summary>Probability that <paramref name="text"/> belongs to the positive (high-quality) class.</summary>
    public double Score(string text)
    {
        var features = new List<int>();
        HashedFeatures.Extract(text, Buckets, features);
        if (features.Count == 0) return 0.5;
        Span<float> hidden = stackalloc float[Dimension];
        Span<float> probabilities = stackalloc float[2];
        Forward(features, hidden, probabilities);
        return probabilities[1];
    }

    /// <summary>Trains on labelled texts; returns the mean training loss of the last epoch.</summary>
    public double Train(IReadOnlyList<(string Text, bool Positive)> examples, int epochs, double learningRate, int seed, CancellationToken cancellation = default)
    {
        var featureLists = examples.Select(e => { var f = new List<int>(); HashedFeatures.Extract(e.Text, Buckets, f); return f; }).ToArray();
        var order = Enumerable.Range(0, examples.Count).ToArray();
        var random = new Random(seed);
        long totalSteps = (long)epochs * examples.Count, step = 0;
        var hidden = new float[Dimension];
        var gradientHidden = new float[Dimension];
        var probabilities = new float[2];
        double lastLoss = 0;
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            random.Shuffle(order);
            double loss = 0;
            foreach (int index in order)
            {
                cancellation.ThrowIfCancellationRequested();
                var features = featureLists[index];
                float rate = (float)(learningRate * (1.0 - (double)step++ / totalSteps));
                if (features.Count == 0) continue;
                Forward(features, hidden, probabilities);
                int label = examples[index].Positive ? 1 : 0;
                loss -= Math.Log(Math.Max(probabilities[label], 1e-12f));
                Array.Clear(gradientHidden);
                for (int c = 0; c < 2; c++)
                {
                    // d(loss)/d(logit_c) = p_c − y_c
                    float gradient = probabilities[c] - (c == label ? 1f : 0f);
                    for (int d = 0; d < Dimension; d++)
                    {
                        gradientHidden[d] += gradient * _output[c * Dimension + d];
                        _output[c * Dimension + d] -= rate * gradient * hidden[d];
                    }
                    _bias[c] -= rate * gradient;
                }
                float scale = rate / features.Count;
                foreach (int feature in features)
                {
                    long row = (long)feature * Dimension;
                    for (int d = 0; d < Dimension; d++) _embeddings[row + d] -= scale * gradientHidden[d];
                }
            }
            lastLoss = loss / Math.Max(1, examples.Count);
        }
        return lastLoss;
    }

    private void Forward(List<int> features, Span<float> hidden, Span<float> probabilities)
    {
        hidden.Clear();
        foreach (int feature in features)
        {
            var row = _embeddings.AsSpan((int)((long)feature * Dimension), Dimension);
            for (int d = 0; d < Dimension; d++) hidden[d] += row[d];
        }
        float inverse = 1f / features.Count;
        for (int d = 0; d < Dimension; d++) hidden[d] *= inverse;
        Span<float> logits = stackalloc float[2];
        for (int c = 0; c < 2; c++)
        {
            float sum = _bias[c];
            for (int d = 0; d < Dimension; d++) sum += _output[c * Dimension + d] * hidden[d];
            logits[c] = sum;
        }
        float max = MathF.Max(logits[0], logits[1]);
        float e0 = MathF.Exp(logits[0] - max), e1 = MathF.Exp(logits[1] - max);
        probabilities[0] = e0 / (e0 + e1);
        probabilities[1] = e1 / (e0 + e1);
    }

    /// <summary>Saves the model: header, output layer, then only the embedding rows that differ from zero.</summary>
    public void Save(Stream stream)
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        writer.Write(Encoding.ASCII.GetBytes(Magic));
        writer.Write(Buckets);
        writer.Write(Dimension);
        foreach (var v in _output) writer.Write(v);
        foreach (var v in _bias) writer.Write(v);
        var rows = new List<int>();
        for (int r = 0; r < Buckets; r++)
        {
            var row = _embeddings.AsSpan(r * Dimension, Dimension);
            if (row.ContainsAnyExcept(0f)) rows.Add(r);
        }
        writer.Write(rows.Count);
        foreach (var r in rows)
        {
            writer.Write(r);
            foreach (var v in _embeddings.AsSpan(r * Dimension, Dimension)) writer.Write(v);
        }
    }

    /// <summary>Loads a model saved by <see cref="Save"/>; a bad header or size raises an error naming <paramref name="name"/>.</summary>
    public static QualityClassifier Load(Stream stream, string name)
    {
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        try
        {
            var magic = Encoding.ASCII.GetString(reader.ReadBytes(Magic.Length));
            if (magic != Magic) throw new InvalidDataException($"{name}: not a quality classifier model (bad magic '{magic}')");
            int buckets = reader.ReadInt32(), dimension = reader.ReadInt32();
            if (buckets is < 16 or > (1 << 26) || dimension is < 1 or > 1024 || (long)buckets * dimension > (1L << 28))
                throw new InvalidDataException($"{name}: implausible model size buckets={buckets} dim={dimension}");
            var model = new QualityClassifier(buckets, dimension, 0);
            for (int i = 0; i < model._output.Length; i++) model._output[i] = reader.ReadSingle();
            for (int i = 0; i < 2; i++) model._bias[i] = reader.ReadSingle();
            int rows = reader.ReadInt32();
            if (rows < 0 || rows > buckets) throw new InvalidDataException($"{name}: row count {rows} outside 0..{buckets}");
            for (int i = 0; i < rows; i++)
            {
                int r = reader.ReadInt32();
                if (r < 0 || r >= buckets) throw new InvalidDataException($"{name}: row index {r} outside 0..{buckets - 1}");
                for (int d = 0; d < dimension; d++) model._embeddings[(long)r * dimension + d] = reader.ReadSingle();
            }
            return model;
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{name}: model file is truncated");
        }
    }

    /// <summary>Loads a model file.</summary>
    public static QualityClassifier Load(string path)
    {
        using var stream = File.OpenRead(path);
        return Load(stream, path);
    }
}
