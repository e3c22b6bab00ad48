using Lucene.Net.Analysis;
using Lucene.Net.Analysis.En;
using Lucene.Net.Analysis.TokenAttributes;
using Lucene.Net.Documents;
using Lucene.Net.Index;
using Lucene.Net.Search;
using Lucene.Net.Search.Similarities;
using Lucene.Net.Store;
using Lucene.Net.Util;
using Directory = Lucene.Net.Store.Directory;

namespace Dclm.Rag.Lexical;

/// <summary>
/// BM25 over chunk texts, kept by Lucene.Net in a folder of its own: English analysis (lower case, stop
/// words, Porter stems), BM25 with Lucene's k1 = 1.2, b = 0.75. A query is analysed the same way and
/// its terms are OR-ed, so user text is never parsed as query syntax. Searches are thread-safe.
/// </summary>
public sealed class LexicalIndex : IDisposable
{
    private const LuceneVersion Version = LuceneVersion.LUCENE_48;
    private const string IdField = "id", TextField = "text";
    private readonly Directory directory;
    private readonly DirectoryReader reader;
    private readonly IndexSearcher searcher;
    private readonly Analyzer analyzer = new EnglishAnalyzer(Version);
    private readonly int[] chunkOfDocument; // (Lucene documents) chunk id
    private readonly Dictionary<int, int> documentOfChunk = [];

    private LexicalIndex(Directory directory)
    {
        this.directory = directory;
        reader = DirectoryReader.Open(directory);
        searcher = new IndexSearcher(reader) { Similarity = new BM25Similarity() };
        chunkOfDocument = new int[reader.MaxDoc];
        for (int document = 0; document < reader.MaxDoc; document++)
        {
            chunkOfDocument[document] = reader.Document(document).GetField(IdField).GetInt32Value()!.Value;
            documentOfChunk[chunkOfDocument[document]] = document;
        }
    }

    /// <summary>Writes a new index of <paramref name="texts"/> (chunk id = position) into <paramref name="folder"/>.</summary>
    public static void Build(string folder, IEnumerable<string> texts, CancellationToken cancellationToken = default)
    {
        using var directory = FSDirectory.Open(new DirectoryInfo(folder));
        using var analyzer = new EnglishAnalyzer(Version);
        var config = new IndexWriterConfig(Version, analyzer) { OpenMode = OpenMode.CREATE, Similarity = new BM25Similarity(), RAMBufferSizeMB = 64 };
        using var writer = new IndexWriter(directory, config);
        int id = 0;
        var idField = new Int32Field(IdField, 0, Field.Store.YES);
        var textField = new Lucene.Net.Documents.TextField(TextField, "", Field.Store.NO);
        var document = new Document { idField, textField };
        foreach (var text in texts)
        {
            if ((id & 1023) == 0) cancellationToken.ThrowIfCancellationRequested();
            idField.SetInt32Value(id++);
            textField.SetStringValue(text);
            writer.AddDocument(document);
        }
        writer.ForceMerge(1);
        writer.Commit();
    }

    /// <summary>Opens the index in <paramref name="folder"/>.</summary>
    public static LexicalIndex Open(string folder)
    {
        var directory = FSDirectory.Open(new DirectoryInfo(folder));
        try
        {
            return new LexicalIndex(directory);
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    /// <summary>Number of chunks indexed.</summary>
    public int Count => reader.NumDocs;

    /// <summary>The best <paramref name="count"/> chunks for <paramref name="query"/>, best first, with their BM25 scores.</summary>
    public IReadOnlyList<(int Id, float Score)> Search(string query, int count)
    {
        if (count <= 0 || Query(query) is not { } boolean) return [];
        var top = searcher.Search(boolean, count);
        return top.ScoreDocs.Select(hit => (chunkOfDocument[hit.Doc], hit.Score)).ToList();
    }

    /// <summary>
    /// The BM25 score of each chunk in <paramref name="chunks"/> for <paramref name="query"/>, the score
    /// <see cref="Search"/> would give it; 0 for a chunk holding none of the query's terms.
    /// </summary>
    public float[] Score(string query, IReadOnlyList<int> chunks)
    {
        var scores = new float[chunks.Count];
        if (chunks.Count == 0 || Query(query) is not { } boolean) return scores;
        var wanted = new FixedBitSet(reader.MaxDoc);
        foreach (int chunk in chunks)
            if (documentOfChunk.TryGetValue(chunk, out int document)) wanted.Set(document);
        var found = searcher.Search(boolean, new DocumentFilter(wanted), chunks.Count).ScoreDocs
            .ToDictionary(hit => chunkOfDocument[hit.Doc], hit => hit.Score);
        for (int i = 0; i < chunks.Count; i++) scores[i] = found.GetValueOrDefault(chunks[i]);
        return scores;
    }

    // The query's analysed terms OR-ed, or null when analysis leaves none.
    private BooleanQuery? Query(string query)
    {
        var terms = Terms(query);
        if (terms.Count == 0) return null;
        var boolean = new BooleanQuery();
        foreach (var term in terms) boolean.Add(new TermQuery(new Term(TextField, term)), Occur.SHOULD);
        return boolean;
    }

    // Lets through only the given (top-level) documents: a filter scores exactly as the unfiltered query does.
    private sealed class DocumentFilter(FixedBitSet documents) : Filter
    {
        public override DocIdSet GetDocIdSet(AtomicReaderContext context, IBits acceptDocs)
        {
            int maxDoc = context.AtomicReader.MaxDoc;
            var segment = new FixedBitSet(maxDoc);
            for (int document = documents.NextSetBit(context.DocBase); document >= 0 && document < context.DocBase + maxDoc;
                 document = document + 1 < documents.Length ? documents.NextSetBit(document + 1) : -1)
                segment.Set(document - context.DocBase);
            return BitsFilteredDocIdSet.Wrap(segment, acceptDocs);
        }
    }

    // The analysed, distinct terms of the query, at most BooleanQuery's clause limit.
    private List<string> Terms(string query)
    {
        var terms = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        using var stream = analyzer.GetTokenStream(TextField, new StringReader(query));
        var term = stream.AddAttribute<ICharTermAttribute>();
        stream.Reset();
        while (stream.IncrementToken() && terms.Count < BooleanQuery.MaxClauseCount)
        {
            string value = term.ToString();
            if (seen.Add(value)) terms.Add(value);
        }
        stream.End();
        return terms;
    }

    /// <summary>Closes the reader and the folder.</summary>
    public void Dispose()
    {
        reader.Dispose();
        directory.Dispose();
        analyzer.Dispose();
    }
}
