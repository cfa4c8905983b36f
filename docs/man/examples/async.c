/* man: kasko_payment_get_async kasko_call_cancel */
#include <kasko.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

/* Views several payments at once on one thread of the library's,
 * then waits for every callback. A callback owns its result. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t finished = PTHREAD_COND_INITIALIZER;
static int pending;

static void on_done(kasko_result *result, void *user_data)
{
  const char *id = user_data, *state = NULL;

  if (kasko_result_member_string(result, "status", &state, 0)
      == KASKO_OK)
    printf("%s: %s\n", id, state);
  else
    printf("%s: %s\n", id, kasko_result_message(result));
  kasko_result_free(result);
  pthread_mutex_lock(&lock);
  pending--;
  pthread_cond_signal(&finished);
  pthread_mutex_unlock(&lock);
}

int main(int argc, char **argv)
{
  char config[512];
  kasko_client *client = NULL;
  char *text = NULL;
  uint64_t call = 0;
  int i;

  snprintf(config, sizeof config,
           "{\"public_key\":\"%s\",\"secret_key\":\"%s\"}",
           getenv("KASKO_PUBLIC_KEY"), getenv("KASKO_SECRET_KEY"));
  if (kasko_client_new(config, &client, &text) != KASKO_OK) {
    fprintf(stderr, "%s\n", text);
    kasko_string_free(text);
    return 1;
  }
  for (i = 1; i < argc; i++) {
    pthread_mutex_lock(&lock);
    pending++;
    pthread_mutex_unlock(&lock);
    if (kasko_payment_get_async(client, argv[i], NULL, on_done,
                                argv[i], &call) != KASKO_OK) {
      pthread_mutex_lock(&lock);
      pending--; /* refused: no callback will come */
      pthread_mutex_unlock(&lock);
    }
  }
  /* The last call is not needed after all: its callback says
   * KASKO_ERR_CANCELLED, or its answer if that came first. */
  if (call != 0 && kasko_call_cancel(client, call) != KASKO_OK)
    fprintf(stderr, "no such call\n");
  pthread_mutex_lock(&lock);
  while (pending > 0)
    pthread_cond_wait(&finished, &lock);
  pthread_mutex_unlock(&lock);
  kasko_client_free(client); /* would cancel calls still in flight */
  return 0;
}
