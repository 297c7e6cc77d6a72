// Command example calls the llmops services from Go, through stubs generated
// from protos/ with buf (see clients/go/README.md):
//
//  1. GuardrailService.CheckInput on each prompt given as an argument;
//  2. one CallRecord streamed to LogSinkService.StreamRecords, the same batch
//     again (a duplicate), then a record without request_id (rejected);
//  3. CostService.CountTokens;
//  4. LogSinkService.GetRecord of an id never stored, which must fail NOT_FOUND.
//
// Each step prints one line of key=value pairs. Any other RPC error ends the
// program with exit status 1.
//
// Addresses come from LLMOPS_GUARDRAIL_ADDRESS, LLMOPS_LOGSINK_ADDRESS and
// LLMOPS_COST_ADDRESS (default localhost:50051, 50055, 50052); the tenant from
// LLMOPS_TENANT (default "go-example").
package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"

	llmopsv1 "example.com/app/gen/go/llmops/v1"
)

// The guard sits on the hot path of every LLM call, so its deadline is short;
// the others are generous.
const (
	guardTimeout = 1 * time.Second
	callTimeout  = 10 * time.Second
)

func main() {
	log.SetFlags(0)
	prompts := os.Args[1:]
	if len(prompts) == 0 {
		prompts = []string{"Where is my parcel? Reach me at jane@example.com"}
	}
	tenant := os.Getenv("LLMOPS_TENANT")
	if tenant == "" {
		tenant = "go-example"
	}
	// Every call carries the tenant; outgoing metadata rides on the context.
	ctx := metadata.AppendToOutgoingContext(context.Background(), "x-llmops-tenant", tenant)

	guardrail := llmopsv1.NewGuardrailServiceClient(dial("GUARDRAIL", "localhost:50051"))
	logsink := llmopsv1.NewLogSinkServiceClient(dial("LOGSINK", "localhost:50055"))
	cost := llmopsv1.NewCostServiceClient(dial("COST", "localhost:50052"))

	for _, prompt := range prompts {
		checkInput(ctx, guardrail, prompt)
	}
	streamRecords(ctx, logsink)
	countTokens(ctx, cost)
	getUnknownRecord(ctx, logsink)
}

// dial opens one long-lived plaintext channel to LLMOPS_<name>_ADDRESS.
// Keepalive pings every 30 s: above the 10 s minimum the llmops servers accept.
func dial(name, fallback string) *grpc.ClientConn {
	address := os.Getenv("LLMOPS_" + name + "_ADDRESS")
	if address == "" {
		address = fallback
	}
	conn, err := grpc.Dial(address,
		grpc.WithInsecure(),
		grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time:                30 * time.Second,
			Timeout:             10 * time.Second,
			PermitWithoutStream: true,
		}),
	)
	if err != nil {
		log.Fatalf("dial %s at %s: %v", name, address, err)
	}
	return conn
}

func checkInput(ctx context.Context, guardrail llmopsv1.GuardrailServiceClient, prompt string) {
	ctx, cancel := context.WithTimeout(ctx, guardTimeout)
	defer cancel()
	verdict, err := guardrail.CheckInput(ctx, &llmopsv1.CheckInputRequest{Text: prompt})
	if err != nil {
		log.Fatalf("CheckInput: %v", err)
	}
	fmt.Printf("check action=%s findings=%d policy=%s@%s\n",
		verdict.Action, len(verdict.Findings), verdict.Policy, verdict.PolicyVersion)
}

// streamRecords sends three batches on one StreamRecords stream and prints each
// acknowledgement: a new record, the same record again, and an invalid one.
func streamRecords(ctx context.Context, logsink llmopsv1.LogSinkServiceClient) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	stream, err := logsink.StreamRecords(ctx)
	if err != nil {
		log.Fatalf("StreamRecords: %v", err)
	}
	record := callRecord()
	invalid := callRecord()
	invalid.RequestId = ""
	batches := []*llmopsv1.StreamRecordsRequest{
		{BatchId: "first", Records: []*llmopsv1.CallRecord{record}},
		{BatchId: "again", Records: []*llmopsv1.CallRecord{record}},
		{BatchId: "invalid", Records: []*llmopsv1.CallRecord{invalid}},
	}
	for _, batch := range batches {
		if err := stream.Send(batch); err != nil {
			log.Fatalf("StreamRecords send: %v", err)
		}
		ack, err := stream.Recv()
		if err != nil {
			log.Fatalf("StreamRecords receive: %v", err)
		}
		fmt.Printf("ack batch=%s stored=%d duplicates=%d rejected=%d\n",
			ack.BatchId, ack.Stored, ack.Duplicates, ack.Rejected)
		for _, result := range ack.Results {
			fmt.Printf("result batch=%s index=%d outcome=%s reason=%q\n",
				ack.BatchId, result.Index, result.Outcome, result.Reason)
		}
	}
	if err := stream.CloseSend(); err != nil {
		log.Fatalf("StreamRecords close: %v", err)
	}
	// The server ends the stream once we have half-closed; read until it does.
	if _, err := stream.Recv(); err != io.EOF {
		log.Fatalf("StreamRecords end: %v", err)
	}
}

func callRecord() *llmopsv1.CallRecord {
	return &llmopsv1.CallRecord{
		RequestId:      newRequestID(),
		Timestamp:      timestamppb.Now(),
		Model:          "gpt-4o-mini",
		Provider:       "openai",
		PromptTemplate: "go-example@v1",
		Usage:          &llmopsv1.TokenUsage{InputTokens: 12, OutputTokens: 20},
		LatencyMs:      321.5,
		Status:         llmopsv1.CallStatus_CALL_STATUS_SUCCESS,
		UserId:         "go-example-user",
		PromptText:     "What are your opening hours?",
		ResponseText:   "We are open nine to five.",
	}
}

// newRequestID returns a random (version 4) UUID, the idempotency key of a record.
func newRequestID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		log.Fatalf("request id: %v", err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func countTokens(ctx context.Context, cost llmopsv1.CostServiceClient) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	count, err := cost.CountTokens(ctx, &llmopsv1.CountTokensRequest{Model: "gpt-4o", Text: "hello world"})
	if err != nil {
		log.Fatalf("CountTokens: %v", err)
	}
	fmt.Printf("tokens model=gpt-4o tokens=%d encoding=%s\n", count.Tokens, count.Encoding)
}

// getUnknownRecord shows an llmops error as Go sees it: a canonical status code.
func getUnknownRecord(ctx context.Context, logsink llmopsv1.LogSinkServiceClient) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	_, err := logsink.GetRecord(ctx, &llmopsv1.GetRecordRequest{RequestId: newRequestID()})
	if status.Code(err) != codes.NotFound {
		log.Fatalf("GetRecord of an unknown id: want NotFound, got %v", err)
	}
	fmt.Printf("error rpc=GetRecord code=%d name=%s\n", status.Code(err), status.Code(err))
}
