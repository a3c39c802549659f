package main

// The optional shared store: --redis. Replicas behind a load balancer keep
// their sealed secrets in one Redis (or Valkey) and share the process key
// through --key-file, so that any replica opens what another sealed. What
// goes to Redis and what never does is in store/remote.go.
//
// At start otslite refuses a Redis that saves to disk (save or appendonly
// on), since sealed secrets would then outlive every replica on that disk;
// --redis-allow-persistence overrides it, and says so. A Redis whose CONFIG
// command is disabled (managed services) cannot be checked: a warning
// says so and asks the operator to make sure.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"time"

	"github.com/awnumar/memguard"

	"otslite/handler/audit"
	"otslite/store"
	"otslite/store/resp"
)

// redisFix is what to run instead of a Redis that persists.
const redisFix = `redis-server --save "" --appendonly no`

// destroyKey destroys a key that was read, if one was.
func destroyKey(k *memguard.LockedBuffer) {
	if k != nil {
		k.Destroy()
	}
}

// readKey reads --key-file into locked memory (nil without one).
func readKey(cfg Config) (*memguard.LockedBuffer, error) {
	if cfg.KeyFile == "" {
		return nil, nil
	}
	k, err := store.ReadKeyFile(cfg.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("--key-file: %v", err)
	}
	return k, nil
}

// redisOptions reads the URL and, when given, the password file.
func redisOptions(cfg Config) (resp.Options, error) {
	o, err := resp.ParseURL(cfg.Redis)
	if err != nil {
		return o, fmt.Errorf("--redis: %q: %v", redactURL(cfg.Redis), err)
	}
	if cfg.RedisPasswordFile != "" {
		b, err := readSmallFile(cfg.RedisPasswordFile, 4096)
		if err != nil {
			return o, fmt.Errorf("--redis-password-file: %v", err)
		}
		// The password is a credential of the infrastructure, not a
		// user's secret: the client keeps it to authenticate again after
		// a reconnection, so it lives as long as the process.
		o.Password = strings.TrimRight(string(b), "\r\n")
		clear(b)
		if o.Password == "" {
			return o, fmt.Errorf("--redis-password-file: %s is empty", cfg.RedisPasswordFile)
		}
	}
	return o, nil
}

func readSmallFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		clear(b)
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return b, nil
}

// openRedis connects to the shared store and checks that it does not
// persist. Changes of its reachability go to the log and the audit trail.
func openRedis(cfg Config, logger *log.Logger, trail *audit.Trail) (*resp.Client, error) {
	o, err := redisOptions(cfg)
	if err != nil {
		return nil, err
	}
	where := redactURL(cfg.Redis)
	o.OnState = func(up bool, err error) {
		if up {
			logger.Printf("shared store: Redis at %s is reachable again; serving", where)
			trail.Record(audit.Event{Event: audit.Store, Outcome: audit.OK})
			return
		}
		logger.Printf("shared store: Redis at %s is unavailable (%v); requests that need it get 503 until it is back", where, err)
		trail.Record(audit.Event{Event: audit.Store, Outcome: audit.Unavailable})
	}
	c := resp.New(o)
	if err := checkPersistence(c, cfg.RedisAllowPersistence, where, logger); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// checkPersistence refuses a Redis that saves to disk, unless allowed.
func checkPersistence(c *resp.Client, allow bool, where string, logger *log.Logger) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := c.DoStrings(ctx, "PING"); err != nil {
		return fmt.Errorf("--redis: cannot reach Redis at %s: %v", where, err)
	}
	save, err1 := configGet(ctx, c, "save")
	aof, err2 := configGet(ctx, c, "appendonly")
	if err := errors.Join(err1, err2); err != nil {
		var re *resp.Error
		if !errors.As(err, &re) {
			return fmt.Errorf("--redis: cannot reach Redis at %s: %v", where, err)
		}
		logger.Printf("WARNING: Redis at %s does not let otslite read its configuration (%s): make sure it does not save to disk (%s, or the service's equivalent)", where, re.Msg, redisFix)
		return nil
	}
	if strings.TrimSpace(save) == "" && aof != "yes" {
		return nil
	}
	what := fmt.Sprintf("save %q, appendonly %s", save, aof)
	if allow {
		logger.Printf("WARNING: --redis-allow-persistence: Redis at %s saves to disk (%s): sealed secrets and their metadata may be written there and outlive otslite", where, what)
		return nil
	}
	return fmt.Errorf("--redis: Redis at %s saves to disk (%s), where sealed secrets would outlive otslite; run it as %s, or pass --redis-allow-persistence", where, what, redisFix)
}

// configGet reads one setting with CONFIG GET.
func configGet(ctx context.Context, c *resp.Client, name string) (string, error) {
	v, err := c.DoStrings(ctx, "CONFIG", "GET", name)
	if err != nil {
		return "", err
	}
	if v.Kind != resp.Array || len(v.Array) != 2 {
		return "", &resp.Error{Msg: "CONFIG GET " + name + ": no such setting"}
	}
	return string(v.Array[1].Bytes), nil
}

// sharedLeft says what a replica leaves behind in the shared store.
func sharedLeft(waiting int) string {
	if waiting < 0 {
		return "the shared store could not be asked what waits there; its secrets stay for the other replicas"
	}
	return fmt.Sprintf("%d left waiting in the shared store for the other replicas", waiting)
}
