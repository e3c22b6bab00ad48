namespace Dclm.Rag.Dense;

/// <summary>
/// A hierarchical navigable small-world graph (Malkov and Yashunin, 2016) over a <see cref="VectorSet"/>:
/// approximate nearest neighbours in about log(n) hops. Each node lives on levels 0..L, L drawn from
/// an exponential distribution with mean 1/ln(M); it keeps up to M neighbours above level 0 and 2·M on
/// level 0, chosen by the paper's diversity heuristic (a candidate is kept only if it is closer to the
/// node than to every neighbour kept so far). Construction is sequential and seeded, so the same vectors
/// always give the same graph. Searches are thread-safe.
/// </summary>
public sealed class HnswGraph
{
    private const uint Magic = 0x57534E48; // "HNSW"
    private const int FormatVersion = 1;
    private readonly VectorSet vectors;
    // neighbours[node][level] = neighbour ids on that level.
    private readonly int[][][] neighbours;
    private readonly ThreadLocal<VisitedSet> visitedSets;
    private int entry = -1, topLevel = -1;

    private HnswGraph(VectorSet vectors, int connections, int[][][] neighbours)
    {
        this.vectors = vectors;
        Connections = connections;
        this.neighbours = neighbours;
        visitedSets = new ThreadLocal<VisitedSet>(() => new VisitedSet(vectors.Count));
    }

    /// <summary>M: neighbours per node above level 0 (twice as many on level 0).</summary>
    public int Connections { get; }

    /// <summary>Number of nodes.</summary>
    public int Count => neighbours.Length;

    /// <summary>Builds the graph of <paramref name="vectors"/> with M = <paramref name="connections"/> and a candidate list of <paramref name="constructionBreadth"/>.</summary>
    public static HnswGraph Build(VectorSet vectors, int connections = 16, int constructionBreadth = 128, int seed = 42, CancellationToken cancellationToken = default)
    {
        if (connections < 2) throw new ArgumentOutOfRangeException(nameof(connections), "HNSW needs at least 2 connections per node");
        var graph = new HnswGraph(vectors, connections, new int[vectors.Count][][]);
        var random = new Random(seed);
        double levelScale = 1 / Math.Log(connections);
        for (int node = 0; node < vectors.Count; node++)
        {
            if ((node & 255) == 0) cancellationToken.ThrowIfCancellationRequested();
            int level = (int)(-Math.Log(1 - random.NextDouble()) * levelScale);
            graph.Insert(node, level, constructionBreadth);
        }
        return graph;
    }

    private void Insert(int node, int level, int breadth)
    {
        neighbours[node] = new int[level + 1][];
        for (int l = 0; l <= level; l++) neighbours[node][l] = [];
        if (entry < 0)
        {
            entry = node;
            topLevel = level;
            return;
        }
        var query = vectors[node];
        int current = entry;
        for (int l = topLevel; l > level; l--) current = Greedy(query, current, l);
        for (int l = Math.Min(level, topLevel); l >= 0; l--)
        {
            var candidates = SearchLevel(query, [current], breadth, l);
            var chosen = SelectNeighbours(node, candidates, MaxNeighbours(l));
            neighbours[node][l] = chosen;
            foreach (int other in chosen) Connect(other, node, l);
            current = candidates[0].Id;
        }
        if (level > topLevel)
        {
            topLevel = level;
            entry = node;
        }
    }

    private int MaxNeighbours(int level) => level == 0 ? 2 * Connections : Connections;

    // Adds node to other's list on level l, re-pruning the list with the heuristic when it overflows.
    private void Connect(int other, int node, int level)
    {
        var list = neighbours[other][level];
        if (list.Length < MaxNeighbours(level))
        {
            neighbours[other][level] = [.. list, node];
            return;
        }
        var query = vectors[other];
        var candidates = new List<(int Id, float Score)>(list.Length + 1);
        foreach (int id in list) candidates.Add((id, vectors.Similarity(id, query)));
        candidates.Add((node, vectors.Similarity(node, query)));
        candidates.Sort((a, b) => b.Score.CompareTo(a.Score));
        neighbours[other][level] = SelectNeighbours(other, candidates, MaxNeighbours(level));
    }

    // The diversity heuristic over candidates sorted best first; unused slots are filled with the
    // closest skipped candidates so nodes keep their full degree.
    private int[] SelectNeighbours(int node, List<(int Id, float Score)> candidates, int limit)
    {
        var kept = new List<int>(limit);
        var skipped = new List<int>();
        foreach (var (id, score) in candidates)
        {
            if (id == node) continue;
            if (kept.Count >= limit) break;
            bool diverse = true;
            foreach (int k in kept)
                if (vectors.Similarity(id, vectors[k]) > score) { diverse = false; break; }
            if (diverse) kept.Add(id);
            else skipped.Add(id);
        }
        for (int i = 0; i < skipped.Count && kept.Count < limit; i++) kept.Add(skipped[i]);
        return kept.ToArray();
    }

    private int Greedy(ReadOnlySpan<float> query, int start, int level)
    {
        int current = start;
        float best = vectors.Similarity(current, query);
        for (bool moved = true; moved;)
        {
            moved = false;
            foreach (int next in neighbours[current][level])
            {
                float score = vectors.Similarity(next, query);
                if (score > best) { best = score; current = next; moved = true; }
            }
        }
        return current;
    }

    // The best `breadth` nodes reachable on one level, best first (the paper's SEARCH-LAYER).
    private List<(int Id, float Score)> SearchLevel(ReadOnlySpan<float> query, int[] starts, int breadth, int level)
    {
        var visited = visitedSets.Value!;
        visited.Clear();
        var frontier = new PriorityQueue<int, float>(); // best first: priority = −similarity
        var results = new PriorityQueue<int, float>();  // worst first: priority = similarity
        foreach (int start in starts)
        {
            visited.Add(start);
            float score = vectors.Similarity(start, query);
            frontier.Enqueue(start, -score);
            results.Enqueue(start, score);
        }
        while (frontier.TryDequeue(out int current, out float negative))
        {
            results.TryPeek(out _, out float worst);
            if (-negative < worst && results.Count >= breadth) break;
            foreach (int next in neighbours[current][level])
            {
                if (!visited.Add(next)) continue;
                float score = vectors.Similarity(next, query);
                results.TryPeek(out _, out worst);
                if (results.Count < breadth || score > worst)
                {
                    frontier.Enqueue(next, -score);
                    results.Enqueue(next, score);
                    if (results.Count > breadth) results.Dequeue();
                }
            }
        }
        var found = new List<(int, float)>(results.Count);
        while (results.TryDequeue(out int id, out float score)) found.Add((id, score));
        found.Reverse();
        return found;
    }

    /// <summary>
    /// The approximately best <paramref name="count"/> vectors for <paramref name="query"/> (unit length),
    /// best first, exploring <paramref name="breadth"/> candidates on level 0 (more: better recall, slower).
    /// </summary>
    public IReadOnlyList<(int Id, float Score)> Search(ReadOnlySpan<float> query, int count, int breadth = 96)
    {
        if (query.Length != vectors.Dimensions) throw new ArgumentException($"a {query.Length}-dimensional query for {vectors.Dimensions}-dimensional vectors");
        if (entry < 0 || count <= 0) return [];
        int current = entry;
        for (int l = topLevel; l > 0; l--) current = Greedy(query, current, l);
        var found = SearchLevel(query, [current], Math.Max(breadth, count), 0);
        return found.Count > count ? found.GetRange(0, count) : found;
    }

    /// <summary>Writes the graph (not the vectors) to <paramref name="stream"/>.</summary>
    public void Write(Stream stream)
    {
        using var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true);
        writer.Write(Magic);
        writer.Write(FormatVersion);
        writer.Write(Count);
        writer.Write(Connections);
        writer.Write(entry);
        writer.Write(topLevel);
        foreach (var levels in neighbours)
        {
            writer.Write(levels.Length);
            foreach (var list in levels)
            {
                writer.Write(list.Length);
                foreach (int id in list) writer.Write(id);
            }
        }
    }

    /// <summary>Reads a graph written by <see cref="Write"/> over <paramref name="vectors"/>; a damaged file throws <see cref="InvalidDataException"/> naming <paramref name="path"/>.</summary>
    public static HnswGraph Read(string path, VectorSet vectors)
    {
        using var stream = new BufferedStream(File.OpenRead(path), 1 << 16);
        using var reader = new BinaryReader(stream);
        try
        {
            if (reader.ReadUInt32() != Magic) throw new InvalidDataException($"{path}: not an HNSW graph");
            int version = reader.ReadInt32(), count = reader.ReadInt32(), connections = reader.ReadInt32(), entry = reader.ReadInt32(), top = reader.ReadInt32();
            if (version != FormatVersion) throw new InvalidDataException($"{path}: graph format {version}, this build reads {FormatVersion}");
            if (count != vectors.Count) throw new InvalidDataException($"{path}: a graph of {count} nodes for {vectors.Count} vectors");
            if (connections < 2 || (count > 0 && (uint)entry >= (uint)count)) throw new InvalidDataException($"{path}: damaged header");
            var lists = new int[count][][];
            for (int node = 0; node < count; node++)
            {
                int levels = reader.ReadInt32();
                if (levels < 1 || levels > 64) throw new InvalidDataException($"{path}: node {node} has {levels} levels");
                lists[node] = new int[levels][];
                for (int l = 0; l < levels; l++)
                {
                    int length = reader.ReadInt32();
                    if (length < 0 || length > 2 * connections) throw new InvalidDataException($"{path}: node {node} has {length} neighbours on level {l}");
                    var list = new int[length];
                    for (int k = 0; k < length; k++)
                    {
                        list[k] = reader.ReadInt32();
                        if ((uint)list[k] >= (uint)count) throw new InvalidDataException($"{path}: node {node} links to {list[k]}, outside {count} nodes");
                    }
                    lists[node][l] = list;
                }
            }
            return new HnswGraph(vectors, connections, lists) { entry = count > 0 ? entry : -1, topLevel = top };
        }
        catch (EndOfStreamException)
        {
            throw new InvalidDataException($"{path}: the graph file is truncated");
        }
    }

    // A visited mark per node, cleared in O(1) by bumping a generation number.
    private sealed class VisitedSet(int count)
    {
        private readonly int[] marks = new int[count];
        private int generation;

        public void Clear()
        {
            if (++generation == int.MaxValue)
            {
                Array.Clear(marks);
                generation = 1;
            }
        }

        public bool Add(int node)
        {
            if (marks[node] == generation) return false;
            marks[node] = generation;
            return true;
        }
    }
}
