/* The camouflage secret in a request URL (core/net/camouflage.c). */
#include <criterion/criterion.h>

#include "net/camouflage.h"

Test(camouflage, secret_is_the_whole_query)
{
	cr_assert(wg_camouflage_url_has_secret("/?s3cret", "s3cret"));
	cr_assert(wg_camouflage_url_has_secret("/group?s3cret", "s3cret"));
	cr_assert_not(wg_camouflage_url_has_secret("/", "s3cret"));
	cr_assert_not(wg_camouflage_url_has_secret("/?", "s3cret"));
	cr_assert_not(wg_camouflage_url_has_secret("/?s3cre", "s3cret"));
	cr_assert_not(wg_camouflage_url_has_secret("/?s3crett", "s3cret"));
	cr_assert_not(wg_camouflage_url_has_secret("/?S3cret", "s3cret"));
	cr_assert_not(wg_camouflage_url_has_secret("/?x=s3cret", "s3cret"));
	cr_assert_not(wg_camouflage_url_has_secret("/s3cret", "s3cret"));
	cr_assert_not(wg_camouflage_url_has_secret("/?", ""), "an empty secret admits nothing");
	cr_assert_not(wg_camouflage_url_has_secret("/?a", NULL));
}
